"""A stand-in `harness` executable for workflow-mechanics tests: writes each verb's declared
outputs instantly, so DAG reruns, kills and resumes can be tested in seconds, independently of
the real library verbs. With STUB_HANG_AT_TRAIN=N the N-th train call hangs until killed."""

import json
import os
import sys
import time


def opt(args: list[str], name: str, default=None):
    return args[args.index(name) + 1] if name in args else default


def touch(path: str, text: str = "stub\n") -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main(argv: list[str]) -> None:
    verb, args = argv[0], argv[1:]
    with open("stub_calls.log", "a") as f:  # in the working directory: one line per call
        f.write(" ".join(argv) + "\n")
    if verb == "prepare":
        os.makedirs(opt(args, "--out"), exist_ok=True)
        touch(opt(args, "--out") + ".json", json.dumps({"dataset": opt(args, "--dataset")}))
    elif verb == "refstats":
        touch(opt(args, "--out"))
    elif verb == "train":  # like harness train: writes what it has not yet, keeps states
        run, steps = opt(args, "--run-dir"), int(opt(args, "--max-steps"))
        with open("stub_calls.log") as f:
            trains = sum(line.startswith("train ") for line in f)
        if trains == int(os.environ.get("STUB_HANG_AT_TRAIN", "0")):
            time.sleep(3600)  # a job still running when the test interrupts the workflow
        time.sleep(float(os.environ.get("STUB_TRAIN_SECONDS", "0")))
        for it in opt(args, "--eval-iterations").split(","):
            path = f"{run}/ema_{float(opt(args, '--ema-rate'))}_{int(it):06d}.pt"
            if not os.path.exists(path):
                touch(path)
        touch(f"{run}/train_state_{steps:07d}.pt")
        touch(f"{run}/status.json", json.dumps({"status": "completed", "step": steps}))
    elif verb == "sample":
        if "CUDA_VISIBLE_DEVICES" in os.environ:  # on a (fake) GPU: note when it is held
            with open("stub_gpus.log", "a") as f:
                f.write(f"start {os.environ['CUDA_VISIBLE_DEVICES']} {os.getpid()}\n")
            time.sleep(float(os.environ.get("STUB_SAMPLE_SECONDS", "0")))
            with open("stub_gpus.log", "a") as f:
                f.write(f"end {os.environ['CUDA_VISIBLE_DEVICES']} {os.getpid()}\n")
        assert os.path.exists(opt(args, "--checkpoint")), opt(args, "--checkpoint")
        touch(opt(args, "--out"))
        if "--shard" not in args:  # a shard job writes no grid
            touch(opt(args, "--grid"))
    elif verb == "merge-samples":
        shards = [a for a in args if a.endswith(".npz") and a != opt(args, "--out")]
        assert shards and all(os.path.exists(s) for s in shards), shards
        touch(opt(args, "--out"))
        touch(opt(args, "--grid"))
    elif verb == "metrics":
        touch(opt(args, "--out"), json.dumps({"status": "ok"}))
    elif verb == "released":  # fetch writes the file, check the record
        touch(opt(args, "--out"), json.dumps({"arm": opt(args, "--arm")}))
    elif verb == "analyze":
        touch(opt(args, "--out-mse"))
        touch(opt(args, "--out-x0"))
    elif verb == "report":  # the HTML and, like harness report, assets/ beside it
        with open(opt(args, "--plan")) as f:
            json.load(f)
        touch(opt(args, "--out"))
        assets = os.path.join(os.path.dirname(opt(args, "--out")), "assets")
        touch(f"{assets}/table1.csv", "table,row,column,reproduced\n")
        touch(f"{assets}/fig4_mse.png", "not really a png\n")
    elif verb == "on-gpus":  # the real launcher (it runs the rest of the line: this stub)
        from harness.cli import main as harness

        harness(argv, prog_name="harness")
    else:
        sys.exit(f"stub harness: unknown verb {verb}")


if __name__ == "__main__":
    main(sys.argv[1:])
