"""`llm-tour sample "PROMPT"`: continue a prompt with the workspace's model, token by token."""

from __future__ import annotations

import sys

import click

from engine.text import printable
from tui.commands import pass_workspace

DEFAULT_PROMPT = "The capital of France is"


@click.command(short_help="Continue a prompt with the base model, token by token.")
@click.argument("prompt", required=False, default=DEFAULT_PROMPT)
@click.option("--temperature", "-t", type=click.FloatRange(min=0), default=0.8, show_default=True,
              help="Below 1 sharpens the probability map, above 1 flattens it; 0 is greedy.")
@click.option("--top-k", "-k", type=click.IntRange(min=1), default=None,
              help="Choose only among the k most likely tokens.")
@click.option("--top-p", "-p", type=click.FloatRange(min=0, max=1, min_open=True), default=None,
              help="Choose only among the most likely tokens that together hold p of the "
                   "probability (nucleus sampling).")
@click.option("--seed", "-s", type=int, default=None,
              help="Fix the random choices, so the same command prints the same text.")
@click.option("--max-tokens", "-n", type=click.IntRange(min=0), default=100, show_default=True,
              help="Stop after this many new tokens (or at <|endoftext|>).")
@click.option("--num-samples", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many continuations to print, one after another.")
@click.option("--checkpoint", type=click.Path(dir_okay=False), default=None,
              help="Sample from this checkpoint instead of the workspace's model.")
@click.option("--device", type=click.Choice(["auto", "cuda", "mps", "cpu"]), default="cpu",
              show_default=True,
              help="Where the model runs (auto: CUDA, then MPS, then the CPU).")
@click.option("--probs", is_flag=True,
              help="After each token, print the top of its probability map (to stderr).")
@click.option("--no-kv-cache", is_flag=True,
              help="Run the whole context for every token instead of reusing cached keys "
                   "and values (slower; the same text).")
@pass_workspace
def sample(ws, prompt: str, temperature: float, top_k: int | None, top_p: float | None,
           seed: int | None, max_tokens: int, num_samples: int, checkpoint: str | None,
           device: str, probs: bool, no_kv_cache: bool) -> None:
    """Continue PROMPT with the trained model, printing each token as it is chosen.

    The model predicts a probability map, one token is drawn from it, appended to the
    context, and the model runs again. Without PROMPT it starts from "The capital of
    France is".
    """
    from engine.threads import before_torch

    # The tiny model samples fastest on one thread (engine.threads); set before torch starts,
    # as its first operations (checking and loading the weights) would start a pool of more.
    before_torch("inference")
    from engine.inference.sampler import SampleConfig, Sampler
    from engine.model.device import choose_device
    from engine.model.load import NoModel, load_model

    try:
        loaded = load_model(ws, "base", path=checkpoint, device=str(choose_device(device)))
    except NoModel as error:
        raise click.ClickException(str(error)) from None
    ids = loaded.encode(prompt)
    click.echo(f"Sampling from the {loaded.label}.", err=True)
    for n in range(num_samples):
        config = SampleConfig(temperature=temperature, top_k=top_k, top_p=top_p,
                              seed=None if seed is None else seed + n, max_tokens=max_tokens,
                              map_size=5)
        sampler = Sampler(loaded.model, ids, config, tokenizer=loaded.tokenizer,
                          stop_ids=loaded.stop_ids, use_kv_cache=not no_kv_cache)
        if num_samples > 1:
            click.echo(f"--- sample {n + 1} (seed {sampler.seed})", err=True)
        click.echo(printable(prompt), nl=False)
        sys.stdout.flush()
        last = None
        for event in sampler:
            last = event
            if probs:
                sys.stdout.flush()
                click.echo("", err=True)
                click.echo(_map_line(event), err=True)
            if event.stop == "endoftext":
                break
            click.echo(printable(event.text), nl=False)
            sys.stdout.flush()
        click.echo()
        if last is not None and last.stop == "endoftext":
            click.echo("(the model ended the document with <|endoftext|>)", err=True)
        if num_samples == 1 and seed is None and temperature > 0:
            click.echo(f"(seed {sampler.seed}: add --seed {sampler.seed} to get this text again)",
                       err=True)


def _map_line(event) -> str:
    rows = []
    for candidate in event.map.candidates:
        mark = "*" if candidate.id == event.token_id else " "
        share = (f"{candidate.prob:.1%}" if candidate.kept
                 else f"cut (model {candidate.model_prob:.1%})")
        rows.append(f"{mark}{candidate.text!r} {share}")
    return "   " + "  ".join(rows)
