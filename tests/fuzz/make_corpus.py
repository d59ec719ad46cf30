#!/usr/bin/env python3
"""make_corpus.py -- (re)write the fuzzer's seed corpus, tests/fuzz/corpus/.

    python3 tests/fuzz/make_corpus.py

Three kinds of seeds:
  test-NNN.yaml     every spec text of tests/test_spec.c: each C string
                    literal (adjacent literals joined) that holds a newline
                    and a colon, i.e. the bad specs of test_bad() and the
                    good ones of the other tests, C escapes decoded;
  gen-*.yaml        the specs test_spec.c builds in make_generated()
                    (alias bomb, deep nesting, too many eval_noise levels);
  hostile-*.yaml    hostile and malformed YAML that tests/t_bad_inputs.sh
                    also feeds to the CLI (invalid UTF-8, BOM, NUL bytes,
                    huge numbers, tags, merge keys, flow/block mixes, ...).
sweeps/*.yaml are seeds too, read in place by tests/fuzz/run.sh.
Old test-/gen-/hostile- files are removed first; other files are kept.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus")

LIT = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
GROUP = re.compile(r'"(?:[^"\\\n]|\\.)*"(?:\s*"(?:[^"\\\n]|\\.)*")*')

ESC = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", '"': '"', "\\": "\\", "'": "'", "a": "\a", "b": "\b",
       "f": "\f", "v": "\v"}


def c_unescape(s):
    out, i = [], 0
    while i < len(s):
        ch = s[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = s[i + 1]
        if nxt == "x":
            m = re.match(r"[0-9a-fA-F]+", s[i + 2:])
            out.append(chr(int(m.group(0), 16)))
            i += 2 + len(m.group(0))
        elif nxt in "01234567" and re.match(r"[0-7]{1,3}", s[i + 1:]).group(0) != "0":
            m = re.match(r"[0-7]{1,3}", s[i + 1:])
            out.append(chr(int(m.group(0), 8)))
            i += 1 + len(m.group(0))
        else:
            out.append(ESC[nxt])
            i += 2
    return "".join(out)


def spec_texts(path):
    src = open(path, encoding="utf-8").read()
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)  # comments may quote specs too
    seen, texts = set(), []
    for g in GROUP.finditer(src):
        text = "".join(c_unescape(m.group(1)) for m in LIT.finditer(g.group(0)))
        if "\n" in text and ":" in text and text not in seen:
            seen.add(text)
            texts.append(text)
    return texts


def generated():
    """The specs of make_generated() in tests/test_spec.c."""
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for c in "bcdefgh":
        prev = chr(ord(c) - 1)
        bomb += "%s: &%s [%s]\n" % (c, c, ", ".join("*" + prev for _ in range(10)))
    deep = "sweep:\n  tau: " + "[" * 100
    long_noise = "eval:\n  eval_noise: [" + ", ".join("0.0%d" % i for i in range(17)) + "]\n"
    return {"gen-alias-bomb.yaml": bomb, "gen-deep.yaml": deep, "gen-long-noise.yaml": long_noise}


def hostile():
    """Hostile inputs, as bytes."""
    h = {}
    h["hostile-empty.yaml"] = b""
    h["hostile-bom.yaml"] = b"\xef\xbb\xbfmodel:\n  hidden: 16\n"
    h["hostile-invalid-utf8.yaml"] = b"name: caf\xe9\nmodel:\n  hidden: 16\n"
    h["hostile-invalid-utf8-key.yaml"] = b"model:\n  hid\xff\xfeden: 16\n"
    h["hostile-surrogate.yaml"] = b"name: \xed\xa0\x80\n"
    h["hostile-nul.yaml"] = b"model:\n  hidden: 16\x00\n  tau: 0.1\n"
    h["hostile-binary.yaml"] = bytes(range(256)) * 4
    h["hostile-utf16.yaml"] = "model:\n  hidden: 16\n".encode("utf-16")
    h["hostile-huge-int.yaml"] = b"model:\n  hidden: " + b"9" * 400 + b"\n"
    h["hostile-huge-real.yaml"] = b"train:\n  lr: 1e99999\n"
    h["hostile-tiny-real.yaml"] = b"train:\n  lr: 1e-99999\n"
    h["hostile-long-number.yaml"] = b"train:\n  lr: 0." + b"0" * 200 + b"1\n"
    h["hostile-int-overflow.yaml"] = b"train:\n  seed: 2147483648\n"
    h["hostile-seed-2e64.yaml"] = b"sweep_seed: 18446744073709551616\n"
    h["hostile-nan.yaml"] = b"train:\n  lr: .nan\n"
    h["hostile-inf-literal.yaml"] = b"model:\n  noise: inf\n"
    h["hostile-hex.yaml"] = b"model:\n  hidden: 0x10\n"
    h["hostile-underscores.yaml"] = b"train:\n  steps: 1__0_\n"
    h["hostile-sign-only.yaml"] = b"train:\n  lr: -\n"
    h["hostile-exp-only.yaml"] = b"train:\n  lr: e\n"
    h["hostile-deep-map.yaml"] = b"".join(b"  " * i + b"k%d:\n" % i for i in range(200))
    h["hostile-deep-flow.yaml"] = b"sweep:\n  tau: " + b"[" * 5000 + b"]" * 5000 + b"\n"
    h["hostile-deep-flow-map.yaml"] = b"model: " + b"{a: " * 3000 + b"1" + b"}" * 3000 + b"\n"
    h["hostile-alias-self.yaml"] = b"a: &a [*a]\n"
    h["hostile-alias-key.yaml"] = b"x: &k hidden\nmodel:\n  *k : 16\n"
    h["hostile-alias-value.yaml"] = b"name: &n smoke\nmodel: &m {hidden: 16}\nplace: *m\n"
    h["hostile-alias-axis.yaml"] = (b"name: a\nsweep:\n  seed: &s [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
                                    b"  batch: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  steps: *s\n  eval_batch: *s\n")
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for c in "bcdefghijk":
        p = chr(ord(c) - 1)
        bomb += ("%s: &%s [%s]\n" % (c, c, ", ".join(["*" + p] * 10))).encode()
    h["hostile-alias-bomb-deep.yaml"] = bomb
    h["hostile-alias-bomb-map.yaml"] = (b"a: &a {x: 1, y: 2, z: 3}\nb: &b {p: *a, q: *a, r: *a}\n"
                                        b"c: &c {p: *b, q: *b, r: *b}\nd: &d {p: *c, q: *c, r: *c}\n")
    h["hostile-merge-key.yaml"] = b"base: &b {hidden: 16}\nmodel:\n  <<: *b\n  tau: 0.1\n"
    h["hostile-tags.yaml"] = b"model:\n  hidden: !!str 16\n  tau: !!float 0.1\n  bias: !custom true\n"
    h["hostile-complex-key.yaml"] = b"? {a: 1}\n: 2\n"
    h["hostile-anchor-redefined.yaml"] = b"a: &x 1\nb: &x 2\nmodel:\n  hidden: *x\n"
    h["hostile-two-docs.yaml"] = b"model: {}\n---\nmodel: {}\n...\n"
    h["hostile-directives.yaml"] = b"%YAML 1.1\n%TAG ! tag:x,2000:\n--- !foo\nmodel: {}\n"
    h["hostile-yaml-2.yaml"] = b"%YAML 2.0\n---\nmodel: {}\n"
    h["hostile-tab-indent.yaml"] = b"model:\n\thidden: 5\n"
    h["hostile-crlf.yaml"] = b"model:\r\n  hidden: 16\r\nsweep:\r\n  seed: [0, 1]\r\n"
    h["hostile-cr-only.yaml"] = b"model:\r  hidden: 16\r"
    h["hostile-unterminated-quote.yaml"] = b"name: \"abc\n"
    h["hostile-bad-escape.yaml"] = b"name: \"\\q\\u12\"\n"
    h["hostile-long-key.yaml"] = b"model:\n  " + b"k" * 20000 + b": 1\n"
    h["hostile-long-name.yaml"] = b"name: " + b"n" * 200 + b"\n"
    h["hostile-long-output.yaml"] = b"output:\n  file: " + b"o" * 5000 + b".h5\n"
    h["hostile-long-line.yaml"] = b"description: " + b"x" * 60000 + b"\n"
    h["hostile-block-scalar.yaml"] = b"description: |\n  line one\n  line two\nmodel:\n  hidden: >-\n    16\n"
    h["hostile-many-keys.yaml"] = b"model:\n" + b"".join(b"  k%d: %d\n" % (i, i) for i in range(3000))
    h["hostile-many-items.yaml"] = b"sweep:\n  seed: [" + b", ".join(b"%d" % i for i in range(5000)) + b"]\n"
    h["hostile-many-axes.yaml"] = (b"sweep:\n  seed: {range: [0, 1000000]}\n  steps: {range: [0, 1000000]}\n"
                                   b"  batch: {range: [1, 1000001]}\n  log_every: {range: [1, 1000001]}\n")
    # one combination over the limit (exactly 10^6 is legal, and takes ~20 s
    # under the sanitizers: not a seed, the fuzzer finds it anyway)
    h["hostile-combos-over.yaml"] = b"sweep:\n  seed: {range: [0, 1000]}\n  batch: {range: [1, 1002]}\n"
    h["hostile-samples-max.yaml"] = b"sweep:\n  lr: {loguniform: [1e-9, 10], samples: 100000}\n"
    h["hostile-randint-span.yaml"] = b"sweep:\n  steps: {randint: [0, 2000000000], samples: 5}\n"
    h["hostile-range-neg.yaml"] = b"sweep:\n  seed: {range: [1000000, -1000000, -3]}\n"
    h["hostile-range-frac-step.yaml"] = b"sweep:\n  seed: {range: [0, 10, 0.5]}\n"
    h["hostile-range-huge-step.yaml"] = b"sweep:\n  seed: {range: [0, 10, 1e308]}\n"
    h["hostile-all-cells.yaml"] = (b"sweep:\n  cell: [vanilla, leaky, adaptive, momentum, adaptive_momentum]\n"
                                   b"  tau: [0.05, 0.1]\n  lambda_a: [0.1, 0.2]\n  b_a: [0.1, 0.5]\n"
                                   b"  lambda_v: [0.5, 1]\n  target: [gaussian, dog, cartesian]\n"
                                   b"  surround_scale: [2, 3]\n  save_ratemaps: [none, all, top]\n"
                                   b"  save_top_k: [4, 8]\n")
    h["hostile-bool-forms.yaml"] = b"model:\n  bias: yes\n"
    h["hostile-null-forms.yaml"] = b"model: ~\ntask: null\nplace:\ntrain: Null\neval: NULL\noutput:\nsweep:\n"
    h["hostile-quoted-key.yaml"] = b"\"model\":\n  'hidden': 16\n"
    h["hostile-empty-key.yaml"] = b"model:\n  \"\": 16\n"
    h["hostile-null-key.yaml"] = b"model:\n  ~: 16\n"
    h["hostile-seq-root.yaml"] = b"- model: {}\n"
    h["hostile-scalar-root.yaml"] = b"just a string\n"
    h["hostile-comment-only.yaml"] = b"# nothing\n# here\n"
    h["hostile-whitespace.yaml"] = b"   \n\t\n  \n"
    return h


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.startswith(("test-", "gen-", "hostile-")):
            os.remove(os.path.join(OUT, f))
    texts = spec_texts(os.path.join(ROOT, "tests", "test_spec.c"))
    for i, t in enumerate(texts):
        with open(os.path.join(OUT, "test-%03d.yaml" % i), "wb") as f:
            f.write(t.encode("latin-1") if all(ord(ch) < 256 for ch in t) else t.encode("utf-8"))
    for name, t in generated().items():
        with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
            f.write(t)
    h = hostile()
    for name, b in h.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(b)
    print("make_corpus: %d spec texts from tests/test_spec.c, %d generated, %d hostile -> %s"
          % (len(texts), len(generated()), len(h), os.path.relpath(OUT, ROOT)))
    return 0 if len(texts) >= 25 else 1


if __name__ == "__main__":
    sys.exit(main())
