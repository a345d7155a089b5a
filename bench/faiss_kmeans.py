"""Time FAISS's k-means on the points `alfamix bench kmeans --save-data DIR` wrote (FAISS trains on
at most 256 points per centre, 25 iterations, then assigns every point), for a side-by-side figure.
usage: /usr/bin/python3 bench/faiss_kmeans.py DIR [name:k ...]   -> one JSON line per case"""
import json, sys, time
import numpy as np
import faiss

folder = sys.argv[1]
cases = [a.split(":") for a in sys.argv[2:]] or [("candidates", 1000), ("pool", 100), ("pool100k", 100)]
faiss.omp_set_num_threads(2)
for name, k in cases:
    k = int(k)
    x = np.ascontiguousarray(np.load(f"{folder}/kmeans-{name}.npy"), dtype=np.float32)
    t = time.perf_counter()
    km = faiss.Kmeans(x.shape[1], k, niter=25, seed=1234)
    km.train(x)
    distances, _ = km.index.search(x, 1)
    ms = (time.perf_counter() - t) * 1e3
    print(json.dumps({"impl": f"faiss {faiss.__version__}", "case": name, "n": x.shape[0], "dim": x.shape[1], "k": k,
                      "ms": round(ms), "inertia": float(f"{distances.sum():.6g}")}))
