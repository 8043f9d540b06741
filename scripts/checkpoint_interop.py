#!/usr/bin/env python3
"""Read and write Titrate checkpoint files with h5py, for interoperability tests.

Subcommands:
  dump FILE [--json]   Print the seal status, root attributes and every entry.
                       Exits with status 1 when the seal header does not match.
  write-sample FILE    Write a checkpoint with h5py (default libver,
                       variable-length UTF-8 strings, no seal header) and print
                       its expected contents as JSON, in the format of
                       `dump --json`.
  policy-actions FILE --observations JSON [--site NAME]
                       Recompute the policy's logits and most likely actions
                       for raw observations (a JSON list of rows) with NumPy,
                       from the training layout: normalise with the global
                       statistics (or the site's, under per-site
                       normalisation), clip to [-10, 10], then
                       tanh(x @ W.T + b) per hidden layer and a linear output.

In the JSON output every number is a string (Python's repr for floats, decimal
for integers), so 64-bit integers and NaN survive exactly. New subcommands,
such as recomputing policy actions with NumPy, register in COMMANDS.

The file layout is described in Docs/checkpoint-format.md. Requires numpy and h5py.
"""

import argparse
import hashlib
import json
import sys

import h5py
import numpy as np

SEAL_HEADER_BYTES = 512
SEAL_FIRST_LINE = b"TITRATE CHECKPOINT SEAL 1\n"
DTYPES = {"float32", "float64", "int64", "uint64"}


def check_seal(path):
    """Return None for a file without a seal header, else whether the seal matches."""
    with open(path, "rb") as file:
        data = file.read()
    if not data.startswith(SEAL_FIRST_LINE):
        return None
    header = data[:SEAL_HEADER_BYTES].rstrip(b"\0").decode("ascii", "replace")
    fields = dict(line.split(" ", 1) for line in header.splitlines()[1:] if " " in line)
    length_ok = fields.get("length") == str(len(data))
    digest = hashlib.sha256(data[SEAL_HEADER_BYTES:]).hexdigest()
    return length_ok and fields.get("sha256") == digest


def entry_json(dataset):
    """Describe one dataset as {"dtype", "shape", "values"} with exact values."""
    shape = list(dataset.shape)
    if dataset.dtype.kind in ("O", "S", "U"):
        raw = dataset.asstr()[()]
        values = [raw] if shape == [] else [str(text) for text in raw]
        return {"dtype": "string", "shape": shape, "values": values}
    dtype = dataset.dtype.name
    if dtype not in DTYPES:
        raise SystemExit(f"entry {dataset.name}: unsupported dtype {dtype}")
    flat = np.asarray(dataset[()]).reshape(-1)
    if dtype.startswith("float"):
        values = [repr(float(value)) for value in flat]
    else:
        values = [str(int(value)) for value in flat]
    return {"dtype": dtype, "shape": shape, "values": values}


def describe(path):
    """Return the JSON-ready description of a checkpoint file."""
    entries = {}
    with h5py.File(path, "r") as file:
        def visit(name, item):
            if isinstance(item, h5py.Dataset):
                entries[name] = entry_json(item)

        file.visititems(visit)
        attributes = {}
        for name, value in file.attrs.items():
            if isinstance(value, (bytes, np.bytes_)):
                value = value.decode("utf-8")
            elif isinstance(value, np.integer):
                value = int(value)
            attributes[name] = value
    return {"seal_valid": check_seal(path), "attributes": attributes, "entries": entries}


def command_dump(arguments):
    description = describe(arguments.file)
    if arguments.json:
        json.dump(description, sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
        print()
    else:
        seal = {None: "none", True: "valid", False: "INVALID"}[description["seal_valid"]]
        print(f"file: {arguments.file}\nseal: {seal}")
        for name, value in sorted(description["attributes"].items()):
            print(f"@{name} = {value!r}")
        for path, entry in sorted(description["entries"].items()):
            preview = ", ".join(entry["values"][:6])
            more = ", ..." if len(entry["values"]) > 6 else ""
            print(f"/{path}: {entry['dtype']} {entry['shape']} [{preview}{more}]")
    return 1 if description["seal_valid"] is False else 0


def command_write_sample(arguments):
    text_type = h5py.string_dtype(encoding="utf-8")
    with h5py.File(arguments.file, "w") as file:
        file.attrs["format_version"] = np.int64(2)
        file.attrs["program_version"] = "h5py-sample"
        file.attrs["created_utc"] = "2025-02-01T00:00:00Z"
        file["configuration"] = '{"rounds": 5, "site": "Zürich"}'
        file.create_dataset(
            "policy/layer_0/weight",
            data=np.arange(12, dtype=np.float32).reshape(3, 4) / np.float32(3),
        )
        file.create_dataset("policy/layer_0/bias", data=np.array([0.5, -1.5, np.nan], dtype=np.float32))
        file.create_dataset("policy/log_std", data=np.float32(-0.25))
        file.create_dataset("training/round", data=np.int64(5))
        file.create_dataset("rng/state", data=np.array([2**64 - 1, 1], dtype=np.uint64))
        file.create_dataset("metrics/mean_return", data=np.array([1.0, 2.5, -np.inf]))
        file.create_dataset("empty", data=np.zeros((0, 3), dtype=np.int64))
        file.create_dataset("sites/names", data=["site_0", "東京"], dtype=text_type)
    json.dump(describe(arguments.file), sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    print()
    return 0


def command_policy_actions(arguments):
    """Print {"logits": [[...]], "actions": [...]} for the given observations."""
    with h5py.File(arguments.file, "r") as file:
        configuration = json.loads(file["configuration"].asstr()[()])
        observations = np.asarray(json.loads(arguments.observations), dtype=np.float32)
        if configuration.get("ppo", {}).get("normalizeObservations", True):
            if configuration.get("observationNormalization", "federated") == "federated":
                prefix = "normalizer/global"
            else:
                site = arguments.site or configuration["sites"][0]["name"]
                prefix = f"sites/{site}/normalizer"
            mean = file[f"{prefix}/mean"][()]
            variance = file[f"{prefix}/variance"][()]
            # Same arithmetic as RunningNormalizer.normalize: float32 scale
            # 1 / sqrt(variance + 1e-8) computed in float64.
            scale = (1.0 / np.sqrt(variance + 1e-8)).astype(np.float32)
            activations = np.clip(
                (observations - mean.astype(np.float32)) * scale, -10.0, 10.0
            ).astype(np.float32)
        else:
            activations = observations
        layer_count = len([name for name in file["policy"] if name.startswith("layer_")])
        for index in range(layer_count):
            weight = file[f"policy/layer_{index}/weight"][()]
            bias = file[f"policy/layer_{index}/bias"][()]
            activations = activations @ weight.T + bias
            if index < layer_count - 1:
                activations = np.tanh(activations)
    logits = activations.astype(np.float64)
    print(
        json.dumps(
            {
                "logits": [[repr(float(value)) for value in row] for row in logits],
                "actions": [int(np.argmax(row)) for row in logits],
            }
        )
    )
    return 0


COMMANDS = {
    "dump": (command_dump, "print a checkpoint's seal, attributes and entries"),
    "write-sample": (command_write_sample, "write a sample checkpoint with h5py"),
    "policy-actions": (
        command_policy_actions,
        "recompute a trained policy's logits and actions with NumPy",
    ),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=help_text)
        subparser.add_argument("file", help="path of the checkpoint file")
        if name == "dump":
            subparser.add_argument("--json", action="store_true", help="print exact JSON")
        if name == "policy-actions":
            subparser.add_argument(
                "--observations", required=True, help="JSON list of raw observation rows"
            )
            subparser.add_argument("--site", help="site whose statistics to use (per-site)")
    arguments = parser.parse_args()
    return COMMANDS[arguments.command][0](arguments)


if __name__ == "__main__":
    sys.exit(main())
