"""Generates the sample datasets of the README's lake walkthrough (run with Debian's python3).

- iris.csv: scikit-learn's bundled Iris data (150 rows), with the species name as the label.
- credit.csv: a synthetic credit-scoring table (5,000 applicants, seeded): numbers, categories,
  booleans, dates and some missing values, with a `default` label that depends on them.
"""
import csv
import pathlib

import numpy as np
from sklearn.datasets import load_iris

HERE = pathlib.Path(__file__).parent


def iris() -> None:
    data = load_iris()
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    with open(HERE / "iris.csv", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(names + ["species"])
        for row, label in zip(data.data, data.target):
            writer.writerow([f"{v:.1f}" for v in row] + [data.target_names[label]])


def credit(rows: int = 5000, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    purposes = np.array(["car", "education", "home", "business", "other"])
    housing = np.array(["own", "rent", "free"])
    age = rng.integers(19, 75, rows)
    income = np.round(rng.lognormal(10.5, 0.5, rows), 2)
    amount = np.round(rng.gamma(2.0, 4000.0, rows), 2)
    months = rng.choice([6, 12, 24, 36, 48, 60], rows)
    purpose = rng.choice(purposes, rows, p=[0.3, 0.15, 0.25, 0.1, 0.2])
    home = rng.choice(housing, rows, p=[0.5, 0.4, 0.1])
    late = rng.poisson(0.4, rows)
    employed = rng.random(rows) < 0.85
    opened = np.datetime64("2015-01-01") + rng.integers(0, 3650, rows).astype("timedelta64[D]")
    risk = -2.5 + 0.00004 * amount - 0.000015 * income + 0.6 * late - 0.8 * employed + 0.02 * (months - 24) + 0.4 * (home == "rent")
    default = rng.random(rows) < 1 / (1 + np.exp(-risk))
    income_missing = rng.random(rows) < 0.03
    with open(HERE / "credit.csv", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["applicant_id", "age", "income", "loan_amount", "term_months", "purpose", "housing", "late_payments", "employed", "account_opened", "default"])
        for i in range(rows):
            writer.writerow([
                f"A{i + 1:05d}", age[i], "" if income_missing[i] else f"{income[i]:.2f}", f"{amount[i]:.2f}", months[i], purpose[i], home[i],
                late[i], "true" if employed[i] else "false", str(opened[i]), "true" if default[i] else "false",
            ])


if __name__ == "__main__":
    iris()
    credit()
