"""The transformers fallback engine's sampler: one sequence's logits processing in torch.

Apart from :mod:`services.inference.llm.sampling` (the parameters and their validation) so that what
validates a request does not import torch: the inference service validates every request but runs
no engine itself, and torch took 2.0 of the 3.4 s its imports cost at start on this machine.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import torch

from services.inference.llm.sampling import SamplingParams


@dataclass
class Sampler:
    """Picks the next token of one sequence; seeded when asked so the same seed gives the same text."""

    params: SamplingParams
    counts: Counter[int] = field(default_factory=Counter)
    generator: torch.Generator = field(init=False)

    def __post_init__(self) -> None:
        self.generator = torch.Generator()
        if self.params.seed is not None:
            self.generator.manual_seed(self.params.seed)
        else:
            self.generator.seed()

    def next_token(self, logits: torch.Tensor) -> int:
        """The next token from a 1-D row of logits; records it for the penalties."""
        logits = logits.float()
        if self.params.logit_bias:
            ids = torch.tensor([t for t, _ in self.params.logit_bias], dtype=torch.long, device=logits.device)
            bias = torch.tensor(
                [b for _, b in self.params.logit_bias], dtype=logits.dtype, device=logits.device
            )
            logits = logits.clone()
            logits[ids] += bias
        if self.counts and (self.params.frequency_penalty or self.params.presence_penalty):
            ids = torch.tensor(list(self.counts.keys()), dtype=torch.long, device=logits.device)
            counts = torch.tensor(list(self.counts.values()), dtype=logits.dtype, device=logits.device)
            penalty = counts * self.params.frequency_penalty + self.params.presence_penalty
            logits = logits.clone()
            logits[ids] -= penalty
        if self.params.greedy:
            token = int(torch.argmax(logits).item())
        else:
            token = self._sample(logits / self.params.temperature)
        self.counts[token] += 1
        return token

    def _sample(self, logits: torch.Tensor) -> int:
        if self.params.top_k > 0:
            k = min(self.params.top_k, logits.shape[-1])
            kth = torch.topk(logits, k).values[-1]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if self.params.top_p < 1.0:
            sorted_logits, order = torch.sort(logits, descending=True)
            cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
            # Keep the smallest prefix whose mass reaches top_p (always at least one token).
            drop = cumulative - torch.softmax(sorted_logits, dim=-1) >= self.params.top_p
            sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
            logits = torch.full_like(logits, float("-inf")).scatter(0, order, sorted_logits)
        probs = torch.softmax(logits, dim=-1).cpu()
        return int(torch.multinomial(probs, 1, generator=self.generator).item())
