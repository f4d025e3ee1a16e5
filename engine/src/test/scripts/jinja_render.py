#!/usr/bin/env python3
"""Renders chat templates with Jinja itself, set up as Hugging Face transformers sets it up for chat templates
(sandboxed, trim_blocks, lstrip_blocks, loop controls, raise_exception), so the Java tests can compare Jinjava's
output with Jinja's.

Input (stdin, JSON): {"template": str, "variables": {...}, "cases": [{"messages": [...],
"add_generation_prompt": bool}, ...]}
Output (stdout, JSON): one entry per case, {"text": str} or {"error": str} (the raise_exception message).
Needs only jinja2 (Debian: apt-get install python3-jinja2).
"""
import json
import sys

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise TemplateError(message)


def main():
    request = json.load(sys.stdin)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = raise_exception
    template = env.from_string(request["template"])
    results = []
    for case in request["cases"]:
        try:
            text = template.render(messages=case["messages"],
                                   add_generation_prompt=case["add_generation_prompt"],
                                   **request.get("variables", {}))
            results.append({"text": text})
        except TemplateError as e:
            results.append({"error": str(e)})
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
