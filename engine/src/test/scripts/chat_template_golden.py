#!/usr/bin/env python3
"""Golden token ids for sparkllm's chat templates, computed with Hugging Face transformers.

For the model's tokenizer (tokenizer.json + tokenizer_config.json in MODEL_DIR) and each chat template file
(*.jinja in TEMPLATES_DIR), renders every conversation of CONVERSATIONS (JSON) with
tokenizer.apply_chat_template, as text and as token ids, and writes them as JSON to OUTPUT. Also records
tokenizer(text) for each conversation's first user message, the reference for the "raw" template.

Usage (from the repository root; needs transformers and tokenizers only):
  python3 engine/src/test/scripts/chat_template_golden.py \
      examples/models/kjv-tiny-gptq-4bit-128g-actorder \
      engine/src/test/resources/templates \
      engine/src/test/resources/templates/conversations.json \
      engine/src/test/resources/golden/chat_templates.json
"""
import argparse
import json
import pathlib

import tokenizers
import transformers
from transformers import AutoTokenizer


def ids_of(encoded):
    """apply_chat_template(tokenize=True) returns a list in older transformers, a mapping in newer ones."""
    if isinstance(encoded, list):
        return [int(i) for i in encoded]
    return [int(i) for i in encoded["input_ids"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("templates_dir")
    parser.add_argument("conversations")
    parser.add_argument("output")
    args = parser.parse_args()

    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    conversations = json.loads(pathlib.Path(args.conversations).read_text(encoding="utf-8"))
    templates = sorted(pathlib.Path(args.templates_dir).glob("*.jinja"))
    if not templates:
        raise SystemExit(f"no *.jinja templates in {args.templates_dir}")

    cases = []
    for template_file in templates:
        tokenizer.chat_template = template_file.read_text(encoding="utf-8")
        for conversation in conversations:
            case = {"template": template_file.stem, "conversation": conversation["name"]}
            try:
                case["text"] = tokenizer.apply_chat_template(
                    conversation["messages"], tokenize=False,
                    add_generation_prompt=conversation["add_generation_prompt"])
                case["ids"] = ids_of(tokenizer.apply_chat_template(
                    conversation["messages"], tokenize=True,
                    add_generation_prompt=conversation["add_generation_prompt"]))
            except Exception as e:  # raise_exception in the template: a conversation it rejects
                case["error"] = str(e)
            cases.append(case)

    raw = []
    for conversation in conversations:
        users = [m["content"] for m in conversation["messages"] if m["role"] == "user"]
        if users:
            raw.append({"conversation": conversation["name"], "text": users[0],
                        "ids": [int(i) for i in tokenizer(users[0])["input_ids"]]})

    result = {
        "model_dir": args.model_dir,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "bos_token": tokenizer.bos_token,
        "eos_token": tokenizer.eos_token,
        "cases": cases,
        "raw": raw,
    }
    out = pathlib.Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} chat template cases and {len(raw)} raw cases to {out}")


if __name__ == "__main__":
    main()
