#!/usr/bin/env python3
"""Builds a corpus like a shared webserver's /var/www, and simulates one night of change.

usage: make_corpus.py create DIR [SCALE]   (SCALE 1.0 = about 1.3 GB in about 42,000 files)
       make_corpus.py change DIR [SCALE]   (one night: CMS updates, uploads, dumps, logs, deletions)

Deterministic (fixed seeds), so every tool sees the same bytes.
"""
import os
import random
import sys

WORDS = ("function return array public static private class extends echo if else foreach while "
         "wp_query post_id user_id SELECT INSERT INTO VALUES WHERE FROM UPDATE DELETE NULL true false "
         "the and to of in is that for it with as was on be at by this have from or an they which "
         "GET POST HTTP/1.1 200 304 404 Mozilla/5.0 index.php wp-admin admin-ajax.php").split()


def line_pool(rng, n, words=12):
    return [" ".join(rng.choices(WORDS, k=rng.randint(3, words))) + "\n" for _ in range(n)]


def text(rng, pool, size):
    out, n = [], 0
    while n < size:
        chunk = rng.choices(pool, k=256)
        out.extend(chunk)
        n += sum(len(c) for c in chunk)
    return "".join(out)[:size].encode()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def cms_template(version, nfiles):
    """A CMS release: nfiles PHP/JS/CSS files, 1-40 KB; versions share ~85% of files."""
    base = random.Random(1000)
    files = {}
    pool = line_pool(base, 4000)
    for i in range(nfiles):
        d = f"wp-{['includes', 'admin', 'content/themes/twenty', 'content/plugins/seo'][i % 4]}/m{i % 37}"
        ext = ["php", "php", "php", "js", "css"][i % 5]
        size = int(base.paretovariate(1.6) * 2000) % 40000 + 500
        content = text(base, pool, size)
        if version and random.Random(version * 100000 + i).random() < 0.15:
            content = text(random.Random(version * 7 + i), pool, size)
        files[f"{d}/f{i}.{ext}"] = content
    return files


def create(root, scale):
    customers = max(2, int(60 * scale))
    rng = random.Random(42)
    pool = line_pool(rng, 20000)
    templates = {v: cms_template(v, 600) for v in range(3)}
    for c in range(customers):
        home = os.path.join(root, f"customer{c:04d}")
        version = c % 3
        for rel, data in templates[version].items():
            write(os.path.join(home, "htdocs", rel), data)
        write(os.path.join(home, "htdocs", "wp-config.php"), f"<?php define('DB_NAME', 'c{c}');\n".encode())
        for u in range(rng.randint(40, 90)):
            size = int(rng.paretovariate(1.2) * 30000) % 3_000_000 + 1000
            write(os.path.join(home, "htdocs", "wp-content", "uploads", f"2026/{u % 12:02d}/img{u}.jpg"), os.urandom(size))
        write(os.path.join(home, "backup", "db.sql"), text(rng, pool, rng.randint(2_000_000, 9_000_000)))
        write(os.path.join(home, "logs", "access.log"), text(rng, pool, rng.randint(500_000, 5_000_000)))
        write(os.path.join(home, "logs", "error.log"), text(rng, pool, rng.randint(10_000, 200_000)))


def change(root, scale, night=0):
    rng = random.Random(4242 + night)
    pool = line_pool(rng, 20000)
    customers = sorted(d for d in os.listdir(root) if d.startswith("customer"))
    for i, c in enumerate(customers):
        home = os.path.join(root, c)
        # Logs grow.
        for log in ("access.log", "error.log"):
            p = os.path.join(home, "logs", log)
            with open(p, "ab") as f:
                f.write(text(rng, pool, os.path.getsize(p) // 20 + 1000))
        # The nightly SQL dump: same dump with a few rows changed in the middle and some appended.
        p = os.path.join(home, "backup", "db.sql")
        data = bytearray(open(p, "rb").read())
        for _ in range(5):
            at = rng.randrange(len(data))
            data[at:at] = text(rng, pool, 300)
        data += text(rng, pool, 50_000)
        write(p, bytes(data))
        # Some customers upload pictures, some update the CMS, some delete things.
        if rng.random() < 0.2:
            for u in range(rng.randint(1, 10)):
                write(os.path.join(home, "htdocs", "wp-content", "uploads", "2026/11", f"new{u}.jpg"), os.urandom(rng.randint(50_000, 2_000_000)))
        if rng.random() < 0.05:
            for dirpath, _, names in os.walk(os.path.join(home, "htdocs", "wp-includes")):
                for n in names:
                    if rng.random() < 0.3:
                        write(os.path.join(dirpath, n), text(rng, pool, rng.randint(500, 20000)))
        if rng.random() < 0.1:
            up = os.path.join(home, "htdocs", "wp-content", "uploads", "2026", "01")
            if os.path.isdir(up):
                for n in sorted(os.listdir(up))[:3]:
                    os.remove(os.path.join(up, n))


if __name__ == "__main__":
    cmd, root = sys.argv[1], sys.argv[2]
    scale = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    if cmd == "change" and len(sys.argv) > 4:
        change(root, scale, int(sys.argv[4]))  # night number: each night changes other customers
    else:
        {"create": create, "change": change}[cmd](root, scale)
