"""A small seeded mutation fuzzer for ``repatsim validate`` over the shipped scenarios.

Each mutant is a shipped scenario with one to three mutations: lines deleted, duplicated or
re-indented, characters swapped, control characters inserted, values nested thousands deep,
huge or non-finite numbers, explicit tags, alias bombs, keys holding control characters,
tokens moved, the file cut short. Validating it must end in one of two ways:

* ``ok``: exit 0, one line on stdout, nothing on stderr;
* ``error``: exit 2, nothing on stdout, exactly one line on stderr naming the file;

anything else (an exception, a traceback, several lines, another exit status, more than
:data:`TIME_LIMIT_S`) is ``broken``. Run ``python tests/fuzzing.py --count 1000`` to count the
outcomes of any checkout (put it first on ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))
TIME_LIMIT_S = 5.0

CONTROL = ["\x00", "\x1b", "\x07", "\x7f", "\x85", "\u2028", "\u202e", "\x0c", "\r", "\t", "\ufeff"]
NUMBERS = [
    "9" * 50, "9" * 5000, "9" * 200_000, "0x" + "f" * 5000, "1" + "0" * 400 + ".0", "1e400",
    "1.0e+400", ".inf", "-.inf", ".nan", "1e308", "1.0e+308", "-0.0", "1e-320", "1_000_000_000_000",
]  # fmt: skip
TAGGED = [
    '!!bool "maybe"', '!!int "x"', '!!float "x"', '!!timestamp "x"', '!!binary "?!"', "!!set {a}",
    "!unknown x", "!!omap [a: 1]", "!!null x", "!!python/object:os.system x", "*nowhere",
]  # fmt: skip
KEYS = ['"run\\n.seed"', '"\\e[31mred"', '"a\\0b"', '"\\u2028"', "? [a, b]", '"a\\tb"']


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _value_line(rng: random.Random, lines: list[str]) -> int | None:
    """A random line of the form ``key: value``."""
    candidates = [i for i, line in enumerate(lines) if re.search(r":\s+\S", line)]
    return rng.choice(candidates) if candidates else None


def _set_value(rng: random.Random, text: str, value: str) -> str:
    lines = _lines(text)
    i = _value_line(rng, lines)
    if i is None:
        return text
    key = lines[i].split(":", 1)[0]
    lines[i] = f"{key}: {value}\n"
    return "".join(lines)


def delete_line(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    del lines[rng.randrange(len(lines))]
    return "".join(lines)


def duplicate_line(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return "".join(lines)


def reindent(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    line = lines[i] if rng.random() < 0.5 else lines[i].lstrip(" ")
    lines[i] = rng.choice([" ", "  ", "\t", ""]) + line
    return "".join(lines)


def swap_chars(rng: random.Random, text: str) -> str:
    i = rng.randrange(max(1, len(text) - 1))
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def insert_control(rng: random.Random, text: str) -> str:
    i = rng.randrange(len(text))
    return text[:i] + rng.choice(CONTROL) + text[i:]


def nest(rng: random.Random, text: str) -> str:
    depth = rng.choice([3, 40, 5000])
    opening, closing = rng.choice([("{a: ", "}"), ("[", "]"), ("{? ", ": 1}")])
    return _set_value(rng, text, opening * depth + "1" + closing * depth)


def huge_number(rng: random.Random, text: str) -> str:
    numbers = list(re.finditer(r"(?<![\w.-])\d+(\.\d+)?(?![\w-])", text))
    if not numbers:
        return text
    match = rng.choice(numbers)
    return text[: match.start()] + rng.choice(NUMBERS) + text[match.end() :]


def tag(rng: random.Random, text: str) -> str:
    return _set_value(rng, text, rng.choice(TAGGED))


def empty_value(rng: random.Random, text: str) -> str:
    return _set_value(rng, text, rng.choice(["", "[]", "{}", "null", "~", "''", "-1", "0"]))


def alias_bomb(rng: random.Random, text: str) -> str:
    kind = rng.randrange(3)
    if kind == 0:  # billion laughs
        bomb = "lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
            f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10)
        )
        return bomb + text
    if kind == 1:  # a cycle
        return _set_value(rng, text, "&c [1, *c]")
    return "x: &x {dist: fixed, value: 1}\n" + _set_value(rng, text, "*x")


def odd_key(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    i = _value_line(rng, lines)
    if i is None:
        return text
    key, _, value = lines[i].partition(":")
    indent = key[: len(key) - len(key.lstrip())]
    lines[i] = f"{indent}{rng.choice(KEYS)}:{value}"
    return "".join(lines)


def move_token(rng: random.Random, text: str) -> str:
    tokens = list(re.finditer(r"[\w.-]+", text))
    source, target = rng.choice(tokens), rng.choice(tokens)
    return text[: target.start()] + source.group() + text[target.end() :]


def cut_short(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text))]


MUTATIONS: list[Callable[[random.Random, str], str]] = [
    delete_line, duplicate_line, reindent, swap_chars, insert_control, nest, huge_number, tag,
    empty_value, alias_bomb, odd_key, move_token, cut_short,
]  # fmt: skip


def mutants(seed: int, count: int) -> Iterator[tuple[str, str]]:
    """``count`` mutants of the shipped scenarios: (what was done, text), reproducible."""
    rng = random.Random(seed)
    texts = {path.stem: path.read_text(encoding="utf-8") for path in SCENARIOS}
    for _ in range(count):
        name = rng.choice(sorted(texts))
        text, done = texts[name], []
        for mutation in rng.choices(MUTATIONS, k=rng.choice([1, 1, 2, 3])):
            text = mutation(rng, text) if text else text
            done.append(mutation.__name__)
        yield f"{name}+{'+'.join(done)}", text


# ---------------------------------------------------------------- running one mutant
class _Timeout(BaseException):
    """Raised by the alarm when a validation runs over :data:`TIME_LIMIT_S`."""


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout


@dataclass(frozen=True)
class Outcome:
    kind: str  # ok, error or broken
    detail: str


def validate(path: Path, argv: tuple[str, ...] = ()) -> Outcome:
    """Run ``repatsim validate PATH`` in-process and classify what it did."""
    from simulation.cli import main

    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status: object = main(["validate", str(path), *argv])
    except _Timeout:
        return Outcome("broken", f"over {TIME_LIMIT_S} s")
    except (Exception, SystemExit, RecursionError) as exc:
        return Outcome("broken", f"{type(exc).__name__}: {str(exc)[:200]}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return classify(path, status, out.getvalue(), err.getvalue(), time.perf_counter() - start)


def classify(path: Path, status: object, out: str, err: str, seconds: float) -> Outcome:
    """``ok``, ``error`` (one line naming the file, exit 2) or ``broken``."""
    if status == 0 and err == "" and out.count("\n") == 1 and out.startswith(f"ok: {path}"):
        return Outcome("ok", out.strip())
    one_line = err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err
    if status == 2 and out == "" and one_line and err.startswith(f"error: {path}"):
        return Outcome("error", err.strip())
    return Outcome("broken", f"exit {status}, stdout {out[:200]!r}, stderr {err[:300]!r}")


def fuzz(seed: int, count: int, folder: Path) -> list[tuple[str, Outcome]]:
    """Validate ``count`` mutants written to ``folder``: (what was done, outcome) of each."""
    results = []
    for i, (done, text) in enumerate(mutants(seed, count)):
        path = folder / f"mutant{i:05d}.yaml"
        path.write_text(text, encoding="utf-8")
        results.append((done, validate(path)))
    return results


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = fuzz(args.seed, args.count, Path(folder))
    print(dict(Counter(outcome.kind for _, outcome in results)))
    for done, outcome in results:
        if outcome.kind == "broken":
            print(f"broken: {done}: {outcome.detail[:300]!r}", file=sys.stderr)


if __name__ == "__main__":
    _main()
