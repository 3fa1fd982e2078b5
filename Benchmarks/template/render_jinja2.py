#!/usr/bin/env python3
"""What a user would run instead of `fwctl template render`: read a JSON data file, render a Jinja2 template
with it, write the result to stdout. The whole process is what the end-to-end benchmark times.

usage: render_jinja2.py TEMPLATE_DIR TEMPLATE DATA.json
"""
import json
import sys

import jinja2


def main():
    template_dir, template, data_file = sys.argv[1:4]
    with open(data_file) as f:
        data = json.load(f)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    sys.stdout.write(env.get_template(template).render(data))


if __name__ == "__main__":
    main()
