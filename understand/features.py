"""From appeal text to the sparse feature matrix the classifier reads.

TF-IDF blocks, stacked side by side:

* character 1-3-grams of the head of the text (robust to jieba's mistakes, typos, masked
  names),
* character 1-3-grams of the subject again, weighted: the subject states the problem,
  the detail is often narrative,
* jieba words and word bigrams (stop words removed),
* optionally, keywords of the label taxonomy among the words, per level-2 category.

Only the head of the text is read (:data:`DEFAULT_FEATURE_CHARS`). Features are *hashed*
and computed with numpy for a whole batch at once: every n-gram is packed exactly into a
64-bit key (three 21-bit code points), mixed, and its top bits pick a bucket; there is no
per-n-gram Python work and no vocabulary dict. Fitting keeps the buckets seen in at least
``min_df`` appeals (with their IDF) and maps them to compact column numbers, so the
artifact stores only those. With ``sublinear_tf=False`` (the recipe's default) each
occurrence of an n-gram is one entry worth its IDF and the row norm is taken over
occurrences: no per-row sort, the entries simply add up in the matrix product.
Segmentation happens once, in :func:`prepare_many`; the featurizer reuses the tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from understand import segment
from understand.text_normalise import DEFAULT_MAX_CHARS, cjk_count, prepare_text

#: Characters of subject + detail whose character n-grams are features, and the head that
#: jieba segments (word features, result tokens); the rest of the text is only read by
#: the emergency and sub-category rules. Cross-validated (grouped 5-fold, seeds 42 and 7):
#: 300/250 scores like 300/300 and 500/200 (macro-F1 0.897-0.901), within noise of the
#: whole text, at a fraction of the segmentation cost; 200/200 loses ~0.006.
DEFAULT_FEATURE_CHARS = 300
DEFAULT_SEGMENT_CHARS = 250

#: Chinese characters that make an appeal classifiable (fewer: ``no_chinese_text``).
CJK_ENOUGH = 2
_TWO_CJK = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff][^\u3400-\u4dbf\u4e00-\u9fff]*[\u3400-\u4dbf\u4e00-\u9fff]"
)
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_S21 = np.uint64(21)
_S42 = np.uint64(42)
_S31 = np.uint64(31)
_POS_MIX = np.random.default_rng(12345).integers(1, 2**63, 64, dtype=np.uint64) | np.uint64(1)


@dataclass(frozen=True, slots=True)
class PreparedAppeal:
    """An appeal after normalisation and segmentation: the input of every model."""

    subject: str
    body: str  # subject + detail, normalised, first ``feature_chars`` characters
    tokens: list[str]  # jieba content words of the first ``segment_chars`` of ``body``
    cjk_chars: int  # Chinese characters in ``text``, counted up to CJK_ENOUGH (0: none)
    text: str = ""  # subject + detail, normalised, up to ``max_chars`` (for the rules)


def prepare(
    subject: str | None,
    detail: str | None,
    max_chars: int = DEFAULT_MAX_CHARS,
    feature_chars: int = DEFAULT_FEATURE_CHARS,
    segment_chars: int = DEFAULT_SEGMENT_CHARS,
) -> PreparedAppeal:
    """Normalise and segment one appeal."""
    subj, text = prepare_text(subject, detail, max_chars)
    body = text[:feature_chars]
    # Two Chinese chars in the head are enough to classify; count only when fewer.
    cjk = CJK_ENOUGH if _TWO_CJK.search(body) is not None else min(cjk_count(text), CJK_ENOUGH)
    return PreparedAppeal(subj, body, segment.tokenize(body[:segment_chars]), cjk, text)


def prepare_many(
    items: Iterable[tuple[str | None, str | None]],
    max_chars: int = DEFAULT_MAX_CHARS,
    feature_chars: int = DEFAULT_FEATURE_CHARS,
    segment_chars: int = DEFAULT_SEGMENT_CHARS,
) -> list[PreparedAppeal]:
    """:func:`prepare` for each ``(subject, detail)`` pair."""
    return [prepare(s, d, max_chars, feature_chars, segment_chars) for s, d in items]


def _mix(keys: np.ndarray, salt: int, bits: int) -> np.ndarray:
    """Bucket numbers in ``[0, 2**bits)`` of 64-bit keys (multiply-xorshift mixing)."""
    h = (keys ^ np.uint64(salt)) * _M1
    h ^= h >> _S31
    h *= _M2
    return (h >> np.uint64(64 - bits)).astype(np.int64)


def _codes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Code points (+1, as uint64) of the concatenated texts, and each text's length."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    joined = "".join(texts).encode("utf-32-le")
    return np.frombuffer(joined, dtype=np.uint32).astype(np.uint64) + np.uint64(1), lengths


def char_ngram_buckets(
    texts: Sequence[str], ngrams: tuple[int, int], salt: int, bits: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(row, bucket)`` of every character n-gram (n in ``ngrams``, inclusive) of texts."""
    if ngrams[1] > 3 or ngrams[0] < 1:
        raise ValueError("character n-grams are packed into 64 bits: 1 <= n <= 3")
    codes, lengths = _codes([t.lower() for t in texts])
    L = len(codes)
    if L == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    left = np.repeat(np.cumsum(lengths), lengths) - np.arange(L)  # chars left in its text
    sizes = range(ngrams[0], ngrams[1] + 1)
    # One column per n, one row per start position: flattened, entries stay in text order.
    keys = np.zeros((L, len(sizes)), dtype=np.uint64)
    valid = np.empty((L, len(sizes)), dtype=bool)
    padded = np.concatenate([codes, np.zeros(2, np.uint64)])
    for k, n in enumerate(sizes):
        key = padded[:L].copy()
        for j in range(1, n):
            key = (key << _S21) | padded[j : j + L]
        keys[:, k] = key ^ np.uint64(salt + n)
        valid[:, k] = left >= n
    valid = valid.ravel()
    rows = np.repeat(np.repeat(np.arange(len(texts), dtype=np.int64), lengths), len(sizes))
    return rows[valid], _mix(keys.ravel()[valid], 0, bits)


def word_ngram_buckets(
    token_lists: Sequence[Sequence[str]], salt: int, bits: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(row, bucket)`` of every word unigram and adjacent-word bigram."""
    flat = [t for tokens in token_lists for t in tokens]
    n_tok = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
    if not flat:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    codes, tok_len = _codes(flat)
    tok_start = np.cumsum(tok_len) - tok_len
    offset = np.arange(len(codes), dtype=np.int64) - np.repeat(tok_start, tok_len)
    terms = codes * _POS_MIX[offset % len(_POS_MIX)]
    keys = np.add.reduceat(terms, tok_start) ^ (tok_len.astype(np.uint64) << np.uint64(56))
    rows = np.repeat(np.arange(len(token_lists), dtype=np.int64), n_tok)
    mixed = keys * _M1
    # Column 0: the word; column 1: the bigram it starts (if the next word is in its text).
    pairs = np.empty((len(keys), 2), dtype=np.uint64)
    pairs[:, 0] = keys ^ np.uint64(salt)
    pairs[:-1, 1] = ((mixed[:-1] ^ (mixed[:-1] >> _S31)) * _M2 + keys[1:]) ^ np.uint64(salt + 7)
    pairs[-1, 1] = 0
    valid = np.ones((len(keys), 2), dtype=bool)
    valid[:-1, 1] = rows[1:] == rows[:-1]
    valid[-1, 1] = False
    valid = valid.ravel()
    return np.repeat(rows, 2)[valid], _mix(pairs.ravel()[valid], 0, bits)


def _counts(rows: np.ndarray, buckets: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """Rows x buckets count matrix (duplicates summed)."""
    m = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, buckets)), shape=(n_rows, n_cols)
    )
    m.sum_duplicates()
    return m


def _merge_rows(rows_list, cols_list, vals_list, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """CSR matrix of blocks whose entries are each sorted by row, without sorting.

    Entries keep their order within a row; duplicate columns are kept (they add up).
    """
    counts = [np.bincount(r, minlength=n_rows) for r in rows_list]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(sum(counts), out=indptr[1:])
    nnz = int(indptr[-1])
    indices = np.empty(nnz, dtype=np.int32)
    data = np.empty(nnz, dtype=np.float32)
    before = indptr[:-1].copy()  # where the next block's entries of each row go
    for rows, cols, vals, cnt in zip(rows_list, cols_list, vals_list, counts, strict=True):
        block_start = np.cumsum(cnt) - cnt  # first entry of each row within the block
        dest = before[rows] + (np.arange(len(rows)) - block_start[rows])
        indices[dest] = cols
        data[dest] = vals
        before += cnt
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))


class HashedTfidf:
    """One hashed TF-IDF block: sublinear tf, smoothed idf, l2-normalised rows.

    Only buckets with document frequency >= ``min_df`` at fit time are kept; they are
    renumbered ``0..n-1`` (``columns_`` holds their bucket numbers).
    """

    def __init__(self, bits: int, min_df: int):
        self.bits = bits
        self.min_df = min_df

    def fit(self, rows: np.ndarray, buckets: np.ndarray, n_docs: int) -> HashedTfidf:
        counts = _counts(rows, buckets, n_docs, 1 << self.bits)
        df = np.bincount(counts.indices, minlength=1 << self.bits)
        self.columns_ = np.flatnonzero(df >= self.min_df).astype(np.int32)
        df_kept = df[self.columns_].astype(np.float64)
        self.idf_ = (np.log((1 + n_docs) / (1 + df_kept)) + 1).astype(np.float32)
        self._build_map()
        return self

    def _build_map(self) -> None:
        self._map = np.full(1 << self.bits, -1, dtype=np.int32)
        self._map[self.columns_] = np.arange(len(self.columns_), dtype=np.int32)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_map", None)  # rebuilt on load: 4 bytes per bucket
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "columns_" in state:
            self._build_map()

    @property
    def n_features(self) -> int:
        return len(self.columns_)

    def transform(
        self, rows: np.ndarray, buckets: np.ndarray, n_docs: int, sublinear: bool, weight: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rows, columns, values)`` of the block's l2-normalised, weighted TF-IDF.

        ``sublinear``: ``1 + ln(tf)`` per distinct feature (the duplicates are summed
        first, which sorts). Otherwise each occurrence is an entry worth its IDF and the
        row norm is taken over occurrences: no sort, and the entries add up to the same
        matrix whether or not duplicates are summed later.
        """
        cols = self._map[buckets]
        keep = cols >= 0
        rows, cols = rows[keep], cols[keep]
        if sublinear:
            # distinct (row, column) entries, sorted, with their counts: what a sparse
            # matrix's sum_duplicates gives, without building one (~50 µs a call, paid per
            # block on every batch, and at a steady rate batches are a few appeals)
            width = self.n_features
            keys, counts = np.unique(rows.astype(np.int64) * width + cols, return_counts=True)
            rows, cols = keys // width, (keys % width).astype(np.int32)
            vals = np.log(counts.astype(np.float32))
            vals += 1
            vals *= self.idf_[cols]
        else:
            vals = self.idf_[cols]
        norms = np.sqrt(np.bincount(rows, weights=vals.astype(np.float64) ** 2, minlength=n_docs))
        norms[norms == 0] = 1
        vals = vals * (weight / norms[rows]).astype(np.float32)
        return rows, cols, vals


class TaxonomyBlock:
    """Keywords of the label taxonomy found among the tokens, one column per level-2
    category (of any level 1): prior knowledge for words the training data rarely shows.
    Each matched keyword adds its length; rows are l2-normalised."""

    def __init__(self):
        from understand.taxonomy import keyword_index

        columns: dict[tuple[str, str], int] = {}
        words: dict[str, set[int]] = {}
        for level1, subs in sorted(keyword_index().items()):
            for (level2, _), kws in sorted(subs.items()):
                col = columns.setdefault((level1, level2), len(columns))
                for w in kws:
                    words.setdefault(w, set()).add(col)
        self.n_features = len(columns)
        self.words = {w: tuple(sorted(c)) for w, c in words.items()}

    def transform(self, token_lists, weight: float):
        rows, cols, vals = [], [], []
        words = self.words
        for i, tokens in enumerate(token_lists):
            scores: dict[int, int] = {}
            # set & keys view walks the tokens; set.intersection(dict) walked every
            # keyword of the taxonomy for each appeal (a third of the feature time)
            for t in set(tokens) & words.keys():
                for c in words[t]:
                    scores[c] = scores.get(c, 0) + len(t)
            # sorted columns: the walk above follows Python's per-process string hash, and
            # an entry order that differs between workers moves probabilities by ~1e-7
            ordered = sorted(scores)
            rows += [i] * len(ordered)
            cols += ordered
            vals += [scores[c] for c in ordered]
        rows_a = np.asarray(rows, dtype=np.int64)
        cols_a = np.asarray(cols, dtype=np.int32)
        vals_a = np.asarray(vals, dtype=np.float32)
        norms = np.sqrt(np.bincount(rows_a, weights=vals_a**2, minlength=len(token_lists)))
        norms[norms == 0] = 1
        return rows_a, cols_a, vals_a * (weight / norms[rows_a]).astype(np.float32)


class AppealFeaturizer(TransformerMixin, BaseEstimator):
    """Hashed TF-IDF features of :class:`PreparedAppeal` lists (see module docstring)."""

    def __init__(
        self,
        char_ngrams: tuple[int, int] = (1, 3),
        subject_weight: float = 0.6,
        word_weight: float = 0.8,
        min_df: int = 2,
        bits: int = 20,
        sublinear_tf: bool = True,
        taxonomy_weight: float = 0.0,
    ):
        self.char_ngrams = char_ngrams
        self.subject_weight = subject_weight
        self.word_weight = word_weight
        self.min_df = min_df
        self.bits = bits
        self.sublinear_tf = sublinear_tf
        self.taxonomy_weight = taxonomy_weight

    def _blocks(self, docs: Sequence[PreparedAppeal]):
        yield (
            "body",
            1.0,
            char_ngram_buckets([d.body for d in docs], self.char_ngrams, 11, self.bits),
        )
        yield (
            "subject",
            self.subject_weight,
            char_ngram_buckets([d.subject for d in docs], self.char_ngrams, 23, self.bits),
        )
        if self.word_weight > 0:
            yield (
                "words",
                self.word_weight,
                word_ngram_buckets([d.tokens for d in docs], 37, self.bits),
            )

    def fit(self, docs: Sequence[PreparedAppeal], y=None):
        """Fit the kept buckets and IDF weights of each block."""
        self.blocks_ = {
            name: HashedTfidf(self.bits, self.min_df).fit(rows, buckets, len(docs))
            for name, _, (rows, buckets) in self._blocks(docs)
        }
        self.taxonomy_ = TaxonomyBlock() if self.taxonomy_weight > 0 else None
        return self

    @property
    def n_features(self) -> int:
        extra = self.taxonomy_.n_features if getattr(self, "taxonomy_", None) else 0
        return sum(b.n_features for b in self.blocks_.values()) + extra

    def transform(self, docs: Sequence[PreparedAppeal]) -> sp.csr_matrix:
        """Stacked, weighted TF-IDF blocks, one row per appeal."""
        all_rows, all_cols, all_vals = [], [], []
        offset = 0
        for name, weight, (rows, buckets) in self._blocks(docs):
            block = self.blocks_[name]
            r, c, v = block.transform(rows, buckets, len(docs), self.sublinear_tf, weight)
            all_rows.append(r)
            all_cols.append(c + offset)
            all_vals.append(v)
            offset += block.n_features
        if self.taxonomy_weight > 0:
            r, c, v = self.taxonomy_.transform([d.tokens for d in docs], self.taxonomy_weight)
            all_rows.append(r)
            all_cols.append(c + offset)
            all_vals.append(v)
            offset += self.taxonomy_.n_features
        return _merge_rows(all_rows, all_cols, all_vals, len(docs), offset)
