#!/usr/bin/env python3
"""Rebuilds the page set of `morgue-bench html` in OUT_DIR (docs/formats.md, "How well").

    python3 crates/bench/pageset/build.py OUT_DIR [--sdist newspaper4k-0.9.6.tar.gz]

The pages are the saved news pages of newspaper4k's tests (repository AndyTheFactory/newspaper4k,
tests/data/html/, as released on PyPI in newspaper4k 0.9.6; without --sdist the source
distribution is fetched with `pip download`). Their licences are those of the news sites, so
they are not in this repository: manifest.jsonl beside this script holds only what to take and
the facts written down for each page (title, reporters, date, read from the page by a person,
not by an extractor). The expected body is newspaper4k's own expected text for the page
(tests/data/txt/), or none where it has none.

Writes OUT_DIR/FILE.html for each page and OUT_DIR/expected.jsonl: one JSON object a line with
file, site, lang, source (repo, path, commit, sdist), title, reporters, date, body.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

SDIST = "newspaper4k==0.9.6"
REPO = "AndyTheFactory/newspaper4k"


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[0]
    sdist = argv[argv.index("--sdist") + 1] if "--sdist" in argv else None
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        if sdist is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                 ":all:", SDIST, "-d", tmp],
                check=True, stdout=subprocess.DEVNULL,
            )
            sdist = os.path.join(tmp, [f for f in os.listdir(tmp) if f.endswith(".tar.gz")][0])
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        root = next(
            os.path.join(tmp, d) for d in os.listdir(tmp)
            if os.path.isdir(os.path.join(tmp, d, "tests", "data"))
        )
        data = os.path.join(root, "tests", "data")
        os.makedirs(out, exist_ok=True)
        n = 0
        with open(os.path.join(here, "manifest.jsonl"), encoding="utf-8") as manifest, \
                open(os.path.join(out, "expected.jsonl"), "w", encoding="utf-8") as expected:
            for line in manifest:
                if not line.strip():
                    continue
                page = json.loads(line)
                shutil.copyfile(os.path.join(data, "html", page["file"]),
                                os.path.join(out, page["file"]))
                body = None
                if page["body"]:
                    with open(os.path.join(data, page["body"]), encoding="utf-8") as f:
                        body = f.read()
                page["source"] = {
                    "repo": REPO,
                    "path": "tests/data/html/" + page["file"],
                    "commit": page.pop("commit"),
                    "sdist": SDIST,
                    "body": ("tests/data/" + page["body"]) if page["body"] else None,
                }
                page["body"] = body
                expected.write(json.dumps(page, ensure_ascii=False) + "\n")
                n += 1
    print(f"{n} pages in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
