#!/usr/bin/env python3
"""trafilatura's side of `morgue-bench html` (see docs/formats.md, "How well").

    trafilatura_pages.py extract PAGE...        one JSON line per page: file, title,
                                               reporters, date, body, error
    trafilatura_pages.py speed --procs N --rounds R PAGE...
                                               one JSON line: pages, seconds

Each page is given to `trafilatura.bare_extraction` as the bytes of the file (trafilatura
decodes them itself), with its metadata and without comments (an archive wants the article, not
the readers' comments). `speed` reads the pages into memory first and then extracts each of them
R times, in one process (`--procs 1`) or in a `multiprocessing` pool of N processes.
"""

import json
import multiprocessing
import sys
import time

import trafilatura

PAGES = []


def extract(raw):
    doc = trafilatura.bare_extraction(
        raw, with_metadata=True, include_comments=False
    )
    if doc is None:
        return None
    return doc.as_dict() if hasattr(doc, "as_dict") else doc


def extract_index(i):
    extract(PAGES[i])
    return i


def load(paths):
    out = []
    for p in paths:
        with open(p, "rb") as f:
            out.append(f.read())
    return out


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "extract":
        for path in argv[1:]:
            line = {"file": path.rsplit("/", 1)[-1]}
            try:
                doc = extract(load([path])[0])
            except Exception as e:  # one page's failure is that page's error
                doc, line["error"] = None, repr(e)
            if doc is not None:
                author = doc.get("author") or ""
                line["title"] = doc.get("title")
                line["reporters"] = [a.strip() for a in author.split(";") if a.strip()]
                line["date"] = doc.get("date")
                line["body"] = doc.get("text") or ""
            print(json.dumps(line, ensure_ascii=False), flush=True)
        return 0
    if argv[0] == "speed":
        procs, rounds, paths = 1, 1, []
        args = iter(argv[1:])
        for a in args:
            if a == "--procs":
                procs = int(next(args))
            elif a == "--rounds":
                rounds = int(next(args))
            else:
                paths.append(a)
        global PAGES
        PAGES = load(paths)
        work = [i for _ in range(rounds) for i in range(len(PAGES))]
        if procs == 1:
            start = time.perf_counter()
            for i in work:
                extract_index(i)
            seconds = time.perf_counter() - start
        else:
            # fork: the workers inherit the pages already read.
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(procs) as pool:
                pool.map(extract_index, range(min(procs, len(PAGES))))  # warm up
                start = time.perf_counter()
                pool.map(extract_index, work, chunksize=1)
                seconds = time.perf_counter() - start
        print(json.dumps({"pages": len(work), "seconds": seconds, "procs": procs}))
        return 0
    print("unknown command " + argv[0], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
