"""A tiny SentencePiece Unigram model, written as a Hugging Face tokenizer.json, with the ids
SentencePiece itself gives: the fixture for the Unigram case in test/text-encoder.test.ts.

    /usr/bin/python3 bench/spm_unigram_fixture.py test/fixtures/unigram

SentencePiece (Debian python3-sentencepiece) trains the model on a small corpus with the identity
normalisation. Its pieces and scores become a Unigram tokenizer.json as T5's is laid out (Metaspace
pre-tokenizer, </s> appended), and expected.json holds SentencePiece's ids for some sentences.
"""
import io
import json
import os
import sys

import sentencepiece as spm

CORPUS = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog played in the garden",
    "playing and played are forms of play",
    "the garden is green and the mat is red",
    "dogs and cats are friends sometimes",
    "she played the piano in the evening",
    "the evening was quiet and the garden was dark",
    "unbelievable results were reported today",
    "the reporter reported the results",
] * 3


def main(out):
    os.makedirs(out, exist_ok=True)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS),
        model_writer=model,
        vocab_size=60,
        model_type="unigram",
        normalization_rule_name="identity",
        character_coverage=1.0,
        unk_id=0,
        bos_id=-1,
        eos_id=1,
        pad_id=2,
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    vocab = [[sp.id_to_piece(i), sp.get_score(i)] for i in range(sp.get_piece_size())]
    special = lambda i: {"id": i, "content": sp.id_to_piece(i), "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(0), special(1), special(2)],
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}},
        },
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": 0, "vocab": vocab, "byte_fallback": False},
    }
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"model_max_length": 512, "pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"}, f)
    sentences = ["the cat played in the garden", "unbelievable dogs reported quietly", "a red piano", "xylophone zebra"]
    expected = {"sentencepiece": spm.__version__, "vocab": len(vocab), "sentences": sentences, "ids": [sp.encode(s) + [1] for s in sentences], "pieces": [sp.encode(s, out_type=str) for s in sentences]}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
