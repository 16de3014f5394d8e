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
    elif verb == "train":
        run = opt(args, "--run-dir")
        with open("stub_calls.log") as f:
            trains = sum(line.startswith("train ") for line in f)
        if trains == int(os.environ.get("STUB_HANG_AT_TRAIN", "0")):
            time.sleep(3600)  # a job still running when the test interrupts the workflow
        for it in opt(args, "--eval-iterations").split(","):
            touch(f"{run}/ema_{opt(args, '--ema-rate')}_{int(it):06d}.pt")
        touch(f"{run}/status.json", json.dumps({"status": "completed"}))
    elif verb == "sample":
        assert os.path.exists(opt(args, "--checkpoint")), opt(args, "--checkpoint")
        touch(opt(args, "--out"))
        touch(opt(args, "--grid"))
    elif verb == "metrics":
        touch(opt(args, "--out"), json.dumps({"status": "ok"}))
    elif verb == "analyze":
        touch(opt(args, "--out-mse"))
        touch(opt(args, "--out-x0"))
    elif verb == "report":
        with open(opt(args, "--plan")) as f:
            json.load(f)
        touch(opt(args, "--out"))
    else:
        sys.exit(f"stub harness: unknown verb {verb}")


if __name__ == "__main__":
    main(sys.argv[1:])
