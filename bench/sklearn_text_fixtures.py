"""Reference values for alfamix's TF-IDF and LSA, from scikit-learn (Debian python3-sklearn).

    /usr/bin/python3 bench/sklearn_text_fixtures.py test/fixtures/text-fixtures.json
"""
import json
import sys

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

CORPUS = [
    "The cat sat on the mat. The cat was happy!",
    "A dog and a cat: friends? Dogs chase cats; cats ignore dogs.",
    "Refund my order #4512 — the parcel never arrived, order again?",
    "naïve café owners serve crème brûlée at the café",
    "東京 の 天気 は 晴れ です 東京",
    "snake_case and CamelCase words, x y z single letters",
    "Great movie!!! 10/10 would watch again 🎬🍿 great great",
    "Terrible movie, boring plot; would not watch again.",
    "order order order refund refund",
    "Line one\nline two\r\nline three\ttabbed",
    "",
    "the the the the dog",
]
MORE = [
    " ".join(np.random.default_rng(seed).choice(
        ["cat", "dog", "mat", "order", "refund", "movie", "great", "plot", "café", "watch", "parcel", "again", "happy", "boring"],
        size=12)) for seed in range(60)
]


def vectorizer_case(texts, **settings):
    v = TfidfVectorizer(**settings)
    x = v.fit_transform(texts)
    terms = v.get_feature_names_out().tolist()
    return {"settings": settings, "texts": texts, "terms": terms, "idf": v.idf_.tolist(), "rows": x.toarray().tolist()}


def svd_case(texts, dim):
    v = TfidfVectorizer(min_df=1, sublinear_tf=True)
    x = v.fit_transform(texts)
    svd = TruncatedSVD(n_components=dim, algorithm="randomized", n_iter=5, random_state=0)
    embedded = svd.fit_transform(x)
    exact = np.linalg.svd(x.toarray(), compute_uv=False)[:dim]
    return {
        "texts": texts,
        "dim": dim,
        "singularValues": svd.singular_values_.tolist(),
        "exactSingularValues": exact.tolist(),
        "components": svd.components_.tolist(),
        "embedded": embedded.tolist(),
    }


cases = {
    "word12": vectorizer_case(CORPUS, ngram_range=(1, 2), min_df=2, sublinear_tf=True),
    "word1_limit": vectorizer_case(CORPUS + MORE, ngram_range=(1, 1), min_df=1, max_features=12, sublinear_tf=False),
    "charwb": vectorizer_case(CORPUS, analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True),
    "svd_exact": svd_case(CORPUS, 3),
    "svd_more": svd_case(MORE, 5),
}
with open(sys.argv[1], "w") as f:
    json.dump(cases, f)
print("wrote", sys.argv[1], {k: len(v.get("terms", [])) for k, v in cases.items()})
