"""BM25 that takes product adds, updates and removals in place.

bm25s indexes fast but only as a whole: an API write of one product re-indexed the catalog
(1.3 s of a 1.8 s snapshot rebuild at 51k products). This index keeps postings per term and the
document lengths, so a write costs the product's own tokens. Scoring is bm25s's default
("lucene": idf = ln(1 + (N - df + 0.5) / (df + 0.5)), tf part = tf / (tf + k1 (1 - b + b dl/avgdl)))
so rankings, and the WANDS figures measured with bm25s, stay the same (tests compare the two).

Postings are per-term numpy arrays (compact; a write copies only its own terms' arrays).
Not thread-safe on its own: the engine mutates it under its write lock and scores under the read lock.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter

import numpy as np


class LexicalIndex:
    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        # term -> (vids, tfs): compact arrays (a dict per term cost ~100 bytes per posting)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.doc_terms: dict[int, tuple[str, ...]] = {}  # vid -> its distinct terms (for removal)
        self.doc_len = np.zeros(0, np.float32)
        self.total_len = 0

    def __len__(self) -> int:
        return len(self.doc_terms)

    def _grow(self, vid: int) -> None:
        if vid >= len(self.doc_len):
            grown = np.zeros(max(vid + 1, 2 * len(self.doc_len), 1024), np.float32)
            grown[: len(self.doc_len)] = self.doc_len
            self.doc_len = grown

    def _count(self, vid: int, tokens: list[str]) -> Counter:
        """Record one document's length and terms; returns its term frequencies (doc_len must fit vid)."""
        tokens = tokens or ["\x00"]  # an empty document still counts in N and avgdl, as in bm25s
        counts = Counter(tokens)
        self.doc_len[vid] = len(tokens)
        self.total_len += len(tokens)
        self.doc_terms[vid] = tuple(counts)
        return counts

    @classmethod
    def build(cls, docs: list[tuple[int, list[str]]], k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        """Bulk index (a full rebuild): postings grouped per term in one sort."""
        idx = cls(k1, b)
        if not docs:
            return idx
        idx._grow(max(v for v, _ in docs))
        term_ids: dict[str, int] = {}
        # typed arrays, not lists: 8 bytes a posting instead of ~36 (an int object each) at 1M docs
        t_col, v_col, f_col = array("q"), array("q"), array("f")
        for vid, tokens in docs:
            for term, tf in idx._count(vid, tokens).items():
                t_col.append(term_ids.setdefault(term, len(term_ids)))
                v_col.append(vid)
                f_col.append(tf)
        t = np.frombuffer(t_col, np.int64)
        order = np.argsort(t, kind="stable")
        vids = np.frombuffer(v_col, np.int64)[order]
        tfs = np.frombuffer(f_col, np.float32)[order]
        bounds = np.searchsorted(t[order], np.arange(len(term_ids) + 1))
        for term, i in term_ids.items():
            idx.postings[term] = (vids[bounds[i]:bounds[i + 1]].copy(), tfs[bounds[i]:bounds[i + 1]].copy())
        return idx

    def add(self, vid: int, tokens: list[str]) -> None:
        """Index (or re-index) one document: costs its own terms' postings, not the catalog."""
        if vid in self.doc_terms:
            self.remove(vid)
        self._grow(vid)
        for term, tf in self._count(vid, tokens).items():
            old = self.postings.get(term)
            if old is None:
                self.postings[term] = (np.array([vid], np.int64), np.array([tf], np.float32))
            else:
                self.postings[term] = (np.append(old[0], vid), np.append(old[1], np.float32(tf)))

    def remove(self, vid: int) -> None:
        terms = self.doc_terms.pop(vid, None)
        if terms is None:
            return
        self.total_len -= int(self.doc_len[vid])
        self.doc_len[vid] = 0
        for term in terms:
            vids, tfs = self.postings[term]
            keep = vids != vid
            if keep.any():
                self.postings[term] = (vids[keep], tfs[keep])
            else:
                del self.postings[term]

    def scores(self, terms: list[str], size: int) -> np.ndarray:
        """BM25 score of every vid below `size` for the query terms (0 where none matches)."""
        out = np.zeros(size, np.float32)
        n = len(self.doc_terms)
        if not n:
            return out
        avgdl = self.total_len / n
        for term in dict.fromkeys(terms):
            plist = self.postings.get(term)
            if plist is None:
                continue
            vids, tfs = plist
            idf = math.log(1 + (n - len(vids) + 0.5) / (len(vids) + 0.5))
            norm = self.k1 * ((1 - self.b) + self.b * self.doc_len[vids] / avgdl)
            part = (idf * tfs / (tfs + norm)).astype(np.float32)
            if len(vids) and vids.max() >= size:
                keep = vids < size
                vids, part = vids[keep], part[keep]
            out[vids] += part  # a term's postings hold each vid once
        return out
