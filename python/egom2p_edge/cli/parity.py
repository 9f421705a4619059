"""Check our reference model against outputs of the official EgoM2P code.

DIR is one component folder laid out like ../shared/fixtures/parity/<component>/ (checkpoint.pth,
config.json and safetensors files of named tensors). Every saved non-input tensor is recomputed
from the saved inputs and compared; the exit code is 1 when any non-advisory tensor fails.
"""

from __future__ import annotations

import argparse
import json
import math
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="parity fixture component folder(s)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON only")


def run(args: argparse.Namespace) -> int:
    from egom2p_edge.testing.parity import check_parity, summarize

    reports = {}
    failed_total = 0
    for d in args.dirs:
        report = check_parity(d)
        reports[d] = report
        passed, failed, advisory = summarize(report)
        failed_total += failed
        if args.json:
            continue
        print(f"\n{d}")
        width = max(len(k) for k in report) if report else 10
        for key, r in report.items():
            status = "ok" if r["ok"] else ("advisory" if r["advisory"] else "FAIL")
            err = r["max_abs_err"]
            err_s = "inf" if math.isinf(err) else f"{err:.3e}"
            print(f"  {key:<{width}}  {err_s:>10}  {status}")
        print(f"  {passed} ok, {failed} failed, {advisory} advisory differences")
    if args.json:
        json.dump(reports, sys.stdout, indent=1)
        print()
    else:
        print(f"\nparity: {'PASS' if failed_total == 0 else 'FAIL'} ({len(args.dirs)} folder(s))")
    return 0 if failed_total == 0 else 1
