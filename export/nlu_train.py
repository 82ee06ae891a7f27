"""Fine-tune all-MiniLM-L6-v2 as one joint intent + BIO-slot model (build machine only).

One encoder pass serves both tasks: the intent head reads the mean-pooled sentence vector (the
pooling all-MiniLM-L6-v2 was trained with; its [CLS]/pooler output carries little meaning and
reached only 46% train intent accuracy after two epochs in our first run), the slot head reads
every token. Labels are put on the first sub-token of each word (the rest are
ignored by the loss), and words come from the same tokenizer.json the device uses through the
`tokenizers` library, so training and device agree on what a word is.

Training is a plain PyTorch loop (HF Trainer would pull in `accelerate`), seeded and pinned to
one thread (see TrainConfig.threads) so a rebuild gives the same weights.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from torch import nn
from tqdm import tqdm
from transformers import BertConfig, BertModel, BertPreTrainedModel
from transformers.utils import ModelOutput

from export.nlu_data import Example

log = logging.getLogger(__name__)

IGNORE = -100


@dataclass
class JointOutput(ModelOutput):
    """Named outputs, so Optimum's exporter can bind them to the ONNX outputs by name."""

    intent_logits: torch.Tensor | None = None
    slot_logits: torch.Tensor | None = None


class JointIntentSlotModel(BertPreTrainedModel):
    """BERT encoder + intent head on the mean-pooled output + BIO tag head per token."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.intent_head = nn.Linear(config.hidden_size, config.num_intents)
        self.slot_head = nn.Linear(config.hidden_size, config.num_slot_tags)
        self.post_init()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> JointOutput:
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return JointOutput(
            intent_logits=self.intent_head(self.dropout(pooled)),
            slot_logits=self.slot_head(self.dropout(hidden)),
        )


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters; part of the bundle's source key (change one, the bundle rebuilds)."""

    seed: int = 13
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 2e-4
    warmup_share: float = 0.1
    max_len: int = 40
    freeze_embeddings: bool = True
    threads: int = 1
    """Measured on the shared 2-core build box: 2 threads ran 4x slower than 1 under load (OpenMP
    barriers spin while other jobs hold the cores); 1 thread is also what makes weights reproducible."""


def encode_example(tokenizer: Tokenizer, example: Example, tag_index: dict[str, int],
                   max_len: int) -> tuple[list[int], list[int]]:
    """Token ids and per-token tag ids (first sub-token of a word labelled, others IGNORE)."""
    enc = tokenizer.encode(example.text)
    ids, word_ids, offsets = enc.ids[:max_len], enc.word_ids[:max_len], enc.offsets[:max_len]
    if len(enc.ids) > max_len:
        ids[-1] = enc.ids[-1]  # keep [SEP] last
        word_ids[-1] = None
    labels, previous = [], None
    for word, (start, _end) in zip(word_ids, offsets, strict=True):
        if word is None or word == previous:
            labels.append(IGNORE)
        else:
            labels.append(tag_index[word_tag(start, example.spans)])
        previous = word
    return ids, labels


def word_tag(start: int, spans: tuple[tuple[int, int, str], ...]) -> str:
    """BIO tag of the word starting at character `start`."""
    for span_start, span_end, slot in spans:
        if start == span_start:
            return f"B-{slot}"
        if span_start < start < span_end:
            return f"I-{slot}"
    return "O"


def _batches(rows: list[tuple[list[int], list[int], int]], batch_size: int, rng: random.Random):
    """Shuffled batches of similar length (sorted within pools of 8 batches): less padding."""
    order = list(range(len(rows)))
    rng.shuffle(order)
    pool = batch_size * 8
    groups = []
    for i in range(0, len(order), pool):
        chunk = sorted(order[i:i + pool], key=lambda j: len(rows[j][0]))
        groups += [chunk[k:k + batch_size] for k in range(0, len(chunk), batch_size)]
    rng.shuffle(groups)
    for group in groups:
        chunk = [rows[j] for j in group]
        width = max(len(ids) for ids, _labels, _intent in chunk)
        ids = torch.zeros((len(chunk), width), dtype=torch.long)
        mask = torch.zeros_like(ids)
        labels = torch.full_like(ids, IGNORE)
        for row, (tok, lab, _intent) in enumerate(chunk):
            ids[row, :len(tok)] = torch.tensor(tok)
            mask[row, :len(tok)] = 1
            labels[row, :len(lab)] = torch.tensor(lab)
        intents = torch.tensor([intent for _ids, _labels, intent in chunk])
        yield ids, mask, labels, intents


def fine_tune(source_dir: Path, tokenizer: Tokenizer, train: list[Example], intents: tuple[str, ...],
              tags: tuple[str, ...], out_dir: Path, config: TrainConfig = TrainConfig()) -> JointIntentSlotModel:
    """Train on `train` and save_pretrained into out_dir; returns the model in eval mode."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    rng = random.Random(config.seed)
    bert_config = BertConfig.from_pretrained(source_dir)
    bert_config.num_intents = len(intents)
    bert_config.num_slot_tags = len(tags)
    bert_config.id2label = dict(enumerate(tags))
    bert_config.label2id = {t: i for i, t in enumerate(tags)}
    model = JointIntentSlotModel.from_pretrained(source_dir, config=bert_config)
    # Frozen embeddings: a product word the model never saw keeps the vector it shares with
    # seen ones (better slot recall on unseen products), and the 11.7M-entry table is half the
    # optimizer's work on a 2-core build machine.
    model.bert.embeddings.requires_grad_(not config.freeze_embeddings)
    intent_index = {name: i for i, name in enumerate(intents)}
    tag_index = {name: i for i, name in enumerate(tags)}
    rows = [(*encode_example(tokenizer, ex, tag_index, config.max_len), intent_index[ex.intent]) for ex in train]
    steps = config.epochs * ((len(rows) + config.batch_size - 1) // config.batch_size)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.01)
    warmup = max(1, int(steps * config.warmup_share))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)
    model.train()
    with tqdm(total=steps, desc="nlu fine-tune", unit="step") as bar:
        for _epoch in range(config.epochs):
            for ids, mask, labels, intent in _batches(rows, config.batch_size, rng):
                out = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids))
                loss = loss_fn(out.intent_logits, intent) + loss_fn(
                    out.slot_logits.reshape(-1, len(tags)), labels.reshape(-1))
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                bar.set_postfix(loss=f"{loss.item():.3f}")
                bar.update()
    model.eval()
    model.save_pretrained(out_dir)
    return model
