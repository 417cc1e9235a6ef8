#!/usr/bin/env python3
"""Render a factsep report in headless Chromium and save a screenshot; fail if nothing rendered.

Usage: python scripts/screenshot_report.py OUT/report.html shot.png [--width 1280 --height 2600]

Needs Debian's chromium (``apt-get install -y chromium``). Exit status 0 only when the PNG exists
and is not blank (enough distinct colours and non-white pixels), so CI catches a browser that
starts but draws nothing. Why a script and not a library function: it shells out to a browser
binary, which the library never needs.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("no chromium found: apt-get update && apt-get install -y chromium")


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 2600, timeout: float = 120.0) -> None:
    """Headless screenshot of ``html`` into ``png`` with a throw-away profile and no network chatter."""
    browser = find_browser()
    png.parent.mkdir(parents=True, exist_ok=True)
    if png.exists():
        png.unlink()
    with tempfile.TemporaryDirectory(prefix="factsep-chromium-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            html.resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if not png.exists():
        raise SystemExit(f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}")


def blank_stats(png: Path) -> tuple[int, float]:
    """(distinct colours, share of non-white pixels) of the image: both tiny means nothing rendered."""
    import numpy as np
    from PIL import Image

    with Image.open(png) as im:
        rgb = im.convert("RGB")
        small = rgb.resize((min(rgb.width, 400), min(rgb.height, 800)))
        pixels = np.asarray(small).reshape(-1, 3)
    colours = len(np.unique(pixels, axis=0))
    ink = float((pixels.min(axis=1) < 240).mean()) if len(pixels) else 0.0
    return colours, ink


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path)
    ap.add_argument("png", type=Path)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=2600)
    args = ap.parse_args(argv)
    screenshot(args.html, args.png, args.width, args.height)
    colours, ink = blank_stats(args.png)
    print(f"screenshot {args.png}: {colours} colours, {100 * ink:.1f}% non-white pixels")
    if colours < 8 or ink < 0.01:
        print("screenshot looks blank", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
