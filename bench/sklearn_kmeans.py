"""Time scikit-learn's KMeans on the data `alfamix bench kmeans --save-data DIR` wrote, for a
side-by-side figure (same points, same k, k-means++ init, n_init restarts, Lloyd).
usage: /usr/bin/python3 bench/sklearn_kmeans.py DIR [n_init [name:k ...]]   -> one JSON line per case"""
import json, sys, time
import numpy as np
import sklearn
from sklearn.cluster import KMeans

folder = sys.argv[1]
n_init = int(sys.argv[2]) if len(sys.argv) > 2 else 1
cases = [a.split(":") for a in sys.argv[3:]] or [("candidates", 1000), ("pool", 100), ("pool100k", 100)]
for name, k in cases:
    k = int(k)
    x = np.load(f"{folder}/kmeans-{name}.npy")
    t = time.perf_counter()
    km = KMeans(n_clusters=k, n_init=n_init, random_state=0, algorithm="lloyd").fit(x)
    ms = (time.perf_counter() - t) * 1e3
    print(json.dumps({"impl": f"sklearn {sklearn.__version__}", "n": x.shape[0], "dim": x.shape[1], "k": k, "nInit": n_init,
                      "ms": round(ms), "iterations": int(km.n_iter_), "inertia": float(f"{km.inertia_:.6g}")}))
