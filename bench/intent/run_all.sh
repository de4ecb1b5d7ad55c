#!/usr/bin/env bash
# Reproduces bench/intent/RESULTS.md: trains with `kefu intent train`, evaluates with
# `kefu intent eval --json` and runs the per-mode benchmark (bench_intent.py). ~20-30 min on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
KEFU=.venv/bin/kefu
PY=.venv/bin/python
DATA=${KEFU_BENCH_DATA:-../shared/data}
DD=${KEFU_BENCH_DIR:-/tmp/kefu-intent-bench}
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
mkdir -p "$DD"

# BANKING77 (columns text,category)
/usr/bin/time -v -o "$DD/b77-train.time" $KEFU intent train --data "$DATA/banking77/train.csv" --label-col category \
  --out "$DD/models/intent/banking77" --data-dir "$DD" 2> "$DD/b77-train.log" | tail -1 > "$DD/b77-train.json"
grep -E "Maximum resident|Elapsed|User time|System time" "$DD/b77-train.time" || true
$KEFU intent eval --model "$DD/models/intent/banking77" --data "$DATA/banking77/test.csv" \
  --label-col category --data-dir "$DD" --json | tail -1 > "$DD/b77-eval.json"
cat "$DD/b77-eval.json"
$PY bench/intent/bench_intent.py --model "$DD/models/intent/banking77" --train "$DATA/banking77/train.csv" \
  --test "$DATA/banking77/test.csv" --label-col category | tail -1 > "$DD/b77-bench.json"

# Bitext customer support (columns utterance,intent); test rows also in train are removed
$PY - "$DATA" "$DD" <<'PY'
import csv, sys
data, dd = sys.argv[1], sys.argv[2]
norm = lambda t: " ".join(t.lower().split())
train = {norm(r["utterance"]) for r in csv.DictReader(open(f"{data}/bitext_customer_support/intent_train.csv"))}
rows = list(csv.DictReader(open(f"{data}/bitext_customer_support/intent_test.csv")))
kept = [r for r in rows if norm(r["utterance"]) not in train]
with open(f"{dd}/bitext_test_dedup.csv", "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=["utterance", "intent"]); w.writeheader()
    w.writerows({"utterance": r["utterance"], "intent": r["intent"]} for r in kept)
print(f"bitext: removed {len(rows) - len(kept)} of {len(rows)} test rows that also occur in train")
PY
$KEFU intent train --data "$DATA/bitext_customer_support/intent_train.csv" --text-col utterance \
  --label-col intent --out "$DD/models/intent/bitext" --data-dir "$DD" 2> "$DD/bitext-train.log" | tail -1
$KEFU intent eval --model "$DD/models/intent/bitext" --data "$DD/bitext_test_dedup.csv" \
  --text-col utterance --label-col intent --data-dir "$DD" --json | tail -1 > "$DD/bitext-eval.json"
cat "$DD/bitext-eval.json"
$PY bench/intent/bench_intent.py --model "$DD/models/intent/bitext" \
  --train "$DATA/bitext_customer_support/intent_train.csv" --test "$DATA/bitext_customer_support/intent_test.csv" \
  --text-col utterance --label-col intent --dedupe --no-ftz | tail -1 > "$DD/bitext-bench.json"
echo "results in $DD"
