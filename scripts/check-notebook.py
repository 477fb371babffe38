#!/usr/bin/env python3
"""Checks executed notebooks: no cell failed or printed an error, and at least one figure was shown as an image.

Usage: scripts/check-notebook.py EXECUTED.ipynb...
"""
import json
import sys


def check(path):
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    problems, images = [], 0
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        if cell.get("execution_count") is None:
            problems.append(f"cell {i} was not executed")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {i} failed: {out.get('ename')}: {out.get('evalue')}")
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = "".join(out.get("text", ""))
                if "panic:" in text or "error" in text.lower() and "revsgd: backend" not in text:
                    problems.append(f"cell {i} wrote to stderr: {text.strip()[:300]}")
            if "image/png" in out.get("data", {}):
                images += 1
    if images == 0:
        problems.append("no figure image in the outputs")
    return problems, images


def main():
    failed = False
    for path in sys.argv[1:]:
        problems, images = check(path)
        if problems:
            failed = True
            for p in problems:
                print(f"{path}: {p}")
        else:
            print(f"{path}: ok ({images} image{'s' if images != 1 else ''})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
