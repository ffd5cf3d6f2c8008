"""A small supervised model: appeal text → kind of lead department (住建, 城管, 属地 …).

Trained on the reply-derived references of the ``dev`` half of replies.csv only (see
:mod:`routing.evaluation`); the ``test`` half is never seen. Features, all explainable:

* character 1–3-grams of the title and of the first :data:`CONTENT_CHARS` characters of
  the content (sublinear TF-IDF, each block L2-normalised);
* tags (indicators) computed by the router: the keyword rules' verdict (``rule:zjj``, or
  ``rule:fallback``), so the model learns when to trust the rules, and the kinds of
  department the appeal itself names (``t:jd`` in the title, ``c:fgw`` in the content:
  "举报A市发改委…", "江背镇政府…").

Labels merge the district government (``zf``) and its streets and towns (``jd``) into one
class, ``zf`` (属地): the evaluation counts them as one dispatch target, and which of the
two replies is not predictable from the appeal.

Inference needs only numpy and the JSON artifact (``routing/data/kind_model.json``,
pruned weights of a one-vs-rest logistic regression); training needs scikit-learn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from config.routing import KIND_MODEL_PATH

#: Only the start of the content is used: the problem is stated first.
CONTENT_CHARS = 300
NGRAMS = (1, 3)
#: Label used for the district government and its streets/towns (属地).
LOCAL_KIND = "zf"
#: Tag for "no keyword rule fired".
NO_RULE = "rule:fallback"
#: Weights smaller than this are dropped from the artifact (keeps it well under 2 MB).
PRUNE = 0.05
FORMAT_VERSION = 1
_WHITE_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True)
class KindPrediction:
    """The model's kind with its (one-vs-rest, normalised) probability and the runner-up."""

    kind: str
    probability: float
    runner_up: str | None
    runner_up_probability: float

    def explain(self) -> str:
        """Short explanation for decisions: ``model: kind zjj (p=0.83)``."""
        return f"model: kind {self.kind} (p={self.probability:.2f})"


def _pack(gram: str) -> int:
    """A character n-gram (n <= 3) as one integer: 21 bits per character, code point + 1."""
    key = 0
    for ch in gram:
        key = (key << 21) | (ord(ch) + 1)
    return key


_M1 = np.uint64(0x9E3779B97F4A7C15)
_S29 = np.uint64(29)


class _GramIndex:
    """A block's vocabulary of character 1–3-grams in an open-addressing hash table.

    A whole batch of texts is looked up at once: every n-gram key is computed with numpy
    from the texts' code points, hashed, and probed in the table for all n-grams together
    (linear probing; the table is at most a third full, so most n-grams are settled by the
    first probe). About 4x less time than one dict lookup per n-gram in Python, and 3x
    less than a binary search of the sorted keys.
    """

    def __init__(self, vocab: dict[str, int], offset: int):
        self.bits = max(4, int(np.ceil(np.log2(3 * len(vocab) + 1))))
        mask = (1 << self.bits) - 1
        table_keys, table_cols = [0] * (mask + 1), [0] * (mask + 1)  # key 0: empty slot
        self.max_probe = 0
        keys = np.fromiter(map(_pack, vocab), dtype=np.uint64, count=len(vocab))
        for key, slot, col in zip(
            keys.tolist(), self._home(keys).tolist(), vocab.values(), strict=True
        ):
            probe = 0
            while table_keys[slot]:  # n-grams pack to keys > 0
                slot, probe = (slot + 1) & mask, probe + 1
            table_keys[slot], table_cols[slot] = key, col + offset
            self.max_probe = max(self.max_probe, probe)
        self.keys = np.array(table_keys, dtype=np.uint64)
        self.cols = np.array(table_cols, dtype=np.int64)

    def _home(self, keys: np.ndarray) -> np.ndarray:
        """Each key's first slot (multiply-shift hashing)."""
        h = keys * _M1
        h ^= h >> _S29
        return ((h * _M1) >> np.uint64(64 - self.bits)).astype(np.int64)

    def _find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(positions in keys, columns)`` of the keys that are in the vocabulary."""
        mask = len(self.keys) - 1
        home = self._home(keys)
        active = np.arange(len(keys))
        found, cols = [], []
        for probe in range(self.max_probe + 1):
            slot = (home[active] + probe) & mask
            stored = self.keys[slot]
            hit = stored == keys[active]
            found.append(active[hit])
            cols.append(self.cols[slot[hit]])
            active = active[(stored != 0) & ~hit]  # occupied by another key: probe on
            if not len(active):
                break
        return np.concatenate(found), np.concatenate(cols)

    def lookup(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(row, column)`` of every n-gram of ``texts`` that is in the vocabulary.

        Whitespace runs become one space first, as scikit-learn's ``analyzer="char"``
        does; n-grams never span two texts.
        """
        texts = [_WHITE_SPACES.sub(" ", t) for t in texts]
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
        size = len(codes)
        if size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        padded = np.concatenate([codes.astype(np.uint64) + np.uint64(1), np.zeros(2, np.uint64)])
        row_of = np.repeat(np.arange(len(texts)), lengths)
        left = np.repeat(np.cumsum(lengths), lengths) - np.arange(size)  # chars to text end
        rows, cols = [], []
        key = np.zeros(size, np.uint64)
        for n in range(1, NGRAMS[1] + 1):
            key = (key << np.uint64(21)) | padded[n - 1 : n - 1 + size]
            if n < NGRAMS[0]:
                continue
            valid = left >= n
            at, c = self._find(key[valid])
            rows.append(row_of[valid][at])
            cols.append(c)
        return np.concatenate(rows), np.concatenate(cols)


class KindModel:
    """Loaded model: vocabulary, idf and weights as numpy arrays; thread-safe, read-only."""

    def __init__(
        self,
        kinds: Sequence[str],
        title_vocab: dict[str, int],
        content_vocab: dict[str, int],
        rule_values: Sequence[str],
        idf: np.ndarray,
        weights: np.ndarray,
        bias: np.ndarray,
        meta: dict[str, object] | None = None,
    ) -> None:
        self.kinds = tuple(kinds)
        self.title_vocab = title_vocab
        self.content_vocab = content_vocab
        self.rule_index = {v: i for i, v in enumerate(rule_values)}
        self.rule_values = tuple(rule_values)
        self.n_title = len(title_vocab)
        self.n_text = self.n_title + len(content_vocab)
        self.idf = idf.astype(np.float32)
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.meta = dict(meta or {})
        self._title_index = _GramIndex(title_vocab, 0)
        self._content_index = _GramIndex(content_vocab, self.n_title)

    # -- features -------------------------------------------------------------------------
    def matrix(self, items: Sequence[tuple[str, str, Sequence[str]]]):
        """Feature rows (scipy CSR) of appeals ``(title, content, tags)``: per text block
        sublinear TF-IDF, L2-normalised, as in training; then the tag indicators."""
        from scipy.sparse import coo_matrix

        n, width = len(items), self.weights.shape[0]
        blocks = (
            (self._title_index, [t or "" for t, _, _ in items]),
            (self._content_index, [(c or "")[:CONTENT_CHARS] for _, c, _ in items]),
        )
        rows, cols, vals = [], [], []
        for index, texts in blocks:
            r, c = index.lookup(texts)
            cells, counts = np.unique(r * width + c, return_counts=True)
            r, c = cells // width, cells % width
            v = (1.0 + np.log(counts)) * self.idf[c]
            norms = np.sqrt(np.bincount(r, weights=v * v, minlength=n))
            rows += [r]
            cols += [c]
            vals += [v / norms[r]]
        tagged = [
            (i, self.n_text + j)
            for i, (_, _, tags) in enumerate(items)
            for j in {self.rule_index.get(t) for t in tags} - {None}
        ]
        if tagged:
            rows.append(np.array([i for i, _ in tagged]))
            cols.append(np.array([j for _, j in tagged]))
            vals.append(np.ones(len(tagged)))
        return coo_matrix(
            (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n, width),
        ).tocsr()

    def features(
        self, title: str, content: str, tags: Sequence[str] = ()
    ) -> tuple[list[int], list[float]]:
        """Sparse feature vector (column indices, values) of one appeal."""
        row = self.matrix([(title, content, tags)])
        return row.indices.tolist(), row.data.tolist()

    # -- prediction -----------------------------------------------------------------------
    def _probabilities(self, scores: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-scores))
        return p / p.sum(axis=-1, keepdims=True)

    def predict(self, title: str, content: str, tags: Sequence[str] = ()) -> KindPrediction:
        """Kind of one appeal; ``tags`` as computed by the router (see module docstring)."""
        return self.predict_batch([(title, content, tags)])[0]

    def predict_batch(
        self, items: Sequence[tuple[str, str, Sequence[str]]]
    ) -> list[KindPrediction]:
        """Kinds of many appeals ``(title, content, tags)`` with one sparse product."""
        if not items:
            return []
        scores = np.asarray(self.matrix(items) @ self.weights) + self.bias
        return [self._prediction(row) for row in self._probabilities(scores)]

    def _prediction(self, probs: np.ndarray) -> KindPrediction:
        order = np.argsort(-probs)
        best, second = int(order[0]), int(order[1]) if len(order) > 1 else None
        return KindPrediction(
            kind=self.kinds[best],
            probability=float(probs[best]),
            runner_up=self.kinds[second] if second is not None else None,
            runner_up_probability=float(probs[second]) if second is not None else 0.0,
        )

    # -- persistence ----------------------------------------------------------------------
    def to_json(self) -> dict[str, object]:
        """JSON form: per feature its idf and non-zero class weights (pruned)."""

        def rows(vocab: dict[str, int], offset: int) -> dict[str, list[object]]:
            out: dict[str, list[object]] = {}
            for gram, j in vocab.items():
                w = self.weights[j + offset]
                nz = [[int(k), round(float(w[k]), 3)] for k in np.flatnonzero(w)]
                out[gram] = [round(float(self.idf[j + offset]), 4), nz]
            return out

        rule_rows = {
            v: [
                [int(k), round(float(self.weights[self.n_text + i][k]), 3)]
                for k in np.flatnonzero(self.weights[self.n_text + i])
            ]
            for i, v in enumerate(self.rule_values)
        }
        return {
            "format": FORMAT_VERSION,
            "kinds": list(self.kinds),
            "bias": [round(float(b), 4) for b in self.bias],
            "content_chars": CONTENT_CHARS,
            "ngrams": list(NGRAMS),
            "meta": self.meta,
            "rules": rule_rows,
            "title": rows(self.title_vocab, 0),
            "content": rows(self.content_vocab, self.n_title),
        }

    @classmethod
    def from_json(cls, data: dict) -> KindModel:
        """Inverse of :meth:`to_json`."""
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"kind model format {data.get('format')!r} != {FORMAT_VERSION}")
        kinds = data["kinds"]
        title_vocab = {g: i for i, g in enumerate(data["title"])}
        content_vocab = {g: i for i, g in enumerate(data["content"])}
        rule_values = list(data["rules"])
        n = len(title_vocab) + len(content_vocab) + len(rule_values)
        weights = np.zeros((n, len(kinds)), dtype=np.float32)
        idf = np.ones(n, dtype=np.float32)
        row = 0
        for block in ("title", "content"):
            for value, nz in data[block].values():
                idf[row] = value
                for k, w in nz:
                    weights[row, k] = w
                row += 1
        for v in rule_values:
            for k, w in data["rules"][v]:
                weights[row, k] = w
            row += 1
        return cls(
            kinds,
            title_vocab,
            content_vocab,
            rule_values,
            idf,
            weights,
            np.asarray(data["bias"], dtype=np.float32),
            data.get("meta"),
        )

    def save(self, path: Path) -> None:
        """Write the JSON artifact (compact, UTF-8)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")),
            encoding="utf-8",
        )


@lru_cache(maxsize=4)
def load_kind_model(path: Path | str | None = None) -> KindModel | None:
    """The trained model (default ``$HOTLINE_ROUTING_KIND_MODEL``), or ``None`` if absent.

    Routing works without it (keyword rules only); a corrupt file raises.
    """
    path = Path(path) if path is not None else KIND_MODEL_PATH
    if not path.is_file():
        return None
    return KindModel.from_json(json.loads(path.read_text(encoding="utf-8")))


def fit_kind_model(
    titles: Sequence[str],
    contents: Sequence[str],
    tags: Sequence[Sequence[str]],
    labels: Sequence[str],
    *,
    c: float = 10.0,
    min_df: int = 2,
    prune: float = PRUNE,
    meta: dict[str, object] | None = None,
) -> KindModel:
    """Fit the model (scikit-learn needed): TF-IDF blocks + tag indicators → OvR LogReg."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    def vectoriser() -> TfidfVectorizer:
        return TfidfVectorizer(
            analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, min_df=min_df, lowercase=False
        )

    vt, vc = vectoriser(), vectoriser()
    xt = vt.fit_transform([t or "" for t in titles])
    xc = vc.fit_transform([(c_ or "")[:CONTENT_CHARS] for c_ in contents])
    rule_values = sorted({t for row in tags for t in row} | {NO_RULE})
    ri = {v: i for i, v in enumerate(rule_values)}
    cells = [(i, ri[t]) for i, row in enumerate(tags) for t in set(row)]
    xr = csr_matrix(
        (np.ones(len(cells)), ([r for r, _ in cells], [k for _, k in cells])),
        shape=(len(tags), len(rule_values)),
    )
    x = hstack([xt, xc, xr]).tocsr()
    clf = OneVsRestClassifier(LogisticRegression(C=c, solver="liblinear", max_iter=1000))
    clf.fit(x, list(labels))
    coef = np.column_stack([e.coef_[0] for e in clf.estimators_])  # features × classes
    bias = np.array([e.intercept_[0] for e in clf.estimators_])
    if coef.shape[1] == 1:  # two classes: one estimator for the second class
        coef, bias = np.hstack([-coef, coef]), np.array([-bias[0], bias[0]])
    coef[np.abs(coef) < prune] = 0.0
    t_vocab = {g: i for i, g in enumerate(vt.get_feature_names_out())}
    c_vocab = {g: i for i, g in enumerate(vc.get_feature_names_out())}
    idf = np.concatenate([vt.idf_, vc.idf_, np.ones(len(rule_values))])
    # Every n-gram is kept even if its weights were pruned: it still counts in the norm.
    return KindModel(
        kinds=[str(k) for k in clf.classes_],
        title_vocab=t_vocab,
        content_vocab=c_vocab,
        rule_values=rule_values,
        idf=idf,
        weights=coef,
        bias=np.asarray(bias),
        meta=meta,
    )
