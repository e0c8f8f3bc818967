"""The coverage of agreement's 95% bootstrap intervals, measured by simulation.

Each simulated study: ``ITEMS`` paragraphs whose true themes are drawn from 4 themes (shares
0.4, 0.3, 0.2, 0.1); each of ``CODERS`` coders gives the true theme with probability 0.7, else
a theme at random. The population value of Krippendorff's alpha, Fleiss' kappa and Cohen's
kappa is then the same, ``(p_o - p_e) / (1 - p_e)`` (p_o: two coders agree; p_e: chance
agreement of their common margins). The share of 1,000 studies whose interval (500 resamples
of the items) holds it is the coverage. Per theme c, with P(both c) = p_c s^2 + (1 - p_c) u^2
(s: a coder gives the true theme, u: a given wrong one) and q_c a coder's share of c: the
specific agreement P(both c) / q_c, and Fleiss' per-category kappa, the binary (c or not)
kappa (P(agree) - P_e) / (1 - P_e), P(agree) = 1 - 2 (q_c - P(both c)),
P_e = q_c^2 + (1 - q_c)^2; the lowest and highest coverage over the 4 themes are printed.

    python benchmarks/agreement_coverage.py ITEMS CODERS
"""

import sys

import numpy as np

from policy_nlp.agreement import Codings, agreement

K, R, REPS = 4, 0.7, 1000


def main(n_items: int, coders: int) -> None:
    p = np.array([0.4, 0.3, 0.2, 0.1])
    q = R * p + (1 - R) / K
    same = R + (1 - R) / K
    p_o = same**2 + (K - 1) * ((1 - R) / K) ** 2
    truth = (p_o - q @ q) / (1 - q @ q)
    rng = np.random.default_rng(11)
    keys = ["krippendorff_alpha", "fleiss_kappa"] + (["cohen_kappa"] if coders == 2 else [])
    hits = dict.fromkeys(keys, 0)
    u = (1 - R) / K
    both = p * same**2 + (1 - p) * u**2
    theme_truth = {"specific_agreement": both / q,
                   "fleiss_kappa": ((1 - 2 * (q - both)) - (q**2 + (1 - q) ** 2))
                   / (1 - (q**2 + (1 - q) ** 2))}
    theme_hits = {key: np.zeros(K) for key in theme_truth}
    for _ in range(REPS):
        true = rng.choice(K, n_items, p=p)
        table = np.where(rng.random((n_items, coders)) < R, true[:, None],
                         rng.integers(0, K, (n_items, coders)))
        codings = Codings([f"c{j}" for j in range(coders)], [str(i) for i in range(n_items)],
                          list("abcd"), table)
        result = agreement(codings, n_boot=500, seed=int(rng.integers(1 << 30)))
        for key in keys:
            lo, hi = result[key]["ci95"]
            hits[key] += lo <= truth <= hi
        for row in result["per_theme"]:
            c = "abcd".index(row["theme"])
            for key, values in theme_truth.items():
                lo, hi = row[f"{key}_ci95"]
                theme_hits[key][c] += lo is not None and lo <= values[c] <= hi
    print(f"{n_items} items, {coders} coders, population value {truth:.4f}: coverage "
          + ", ".join(f"{key} {n / REPS:.3f}" for key, n in hits.items()))
    for key, n in theme_hits.items():
        print(f"  per theme, {key}: coverage {n.min() / REPS:.3f} to {n.max() / REPS:.3f} "
              f"(themes of shares {', '.join(f'{x:g}' for x in p)}: "
              f"{', '.join(f'{x / REPS:.3f}' for x in n)})")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
