"""``lesde dataset {pack,upload,list,show,delete}``: your own data sets (``/v1/datasets``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from lesde.cli_url import add_url_option
from lesde.client import LesdeClient


def cmd_pack(args: argparse.Namespace) -> int:
    try:  # numpy and Pillow only here: the client works without them (`lesde[images]`)
        import numpy as np

        from lesde.dataset_pack import PackError, pack_image_folder
    except ImportError as error:
        print(f"error: lesde dataset pack needs numpy and Pillow: pip install 'lesde[images]' ({error})", file=sys.stderr)
        return 2
    try:
        arrays = pack_image_folder(args.folder)
    except PackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    np.savez_compressed(args.out, allow_pickle=True, **arrays)  # numpy's default, named: no array can take the flag's place
    print(
        f"packed {len(arrays['y_train'])} training and {len(arrays['y_val'])} validation images of "
        f"{arrays['x_train'].shape[1:]} in classes {arrays['class_names'].tolist()} into {args.out}"
    )
    return 0


def cmd_upload(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        record = client.upload_dataset(args.file, name=args.name)
        print(f"uploaded {args.file} as data set {record['id']} (validation queued)")
        if args.wait:
            record = client.wait(record["id"], kind="dataset", events=False)
            _show(record)
            return 0 if record["status"] == "succeeded" else 1
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        page = client.list(kind="dataset", limit=args.limit)
    for record in page["data"]:
        print(f"{record['id']}  {record['status']:<9}  {record['created_at'][:19]}  {record.get('name') or ''}")
    print(f"{page['count']} in all")
    return 0


def _show(record: dict) -> None:
    info = record.get("info")
    print(f"data set {record['id']}: {record['status']}" + (f" ({record['error']})" if record.get("error") else ""))
    if info:
        print(f"  images {tuple(info['shape'])}, classes {info['class_names']}")
        print(f"  per class: train {info['train_counts']}, val {info['val_counts']}; sha256 {info['sha256']}")
        print(f'  train on it: "dataset": {json.dumps({"name": "uploaded", "id": record["id"]})}')


def cmd_show(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        _show(client.get(args.id, kind="dataset"))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        client.delete(args.id, kind="dataset")
    print(f"deleted data set {args.id}")
    return 0


def add_dataset_command(sub: argparse._SubParsersAction) -> None:
    """``lesde dataset ...``."""
    dataset = sub.add_parser(
        "dataset",
        help="your own data sets: pack a folder, upload, list, show, delete",
        description="Your own data sets: pack a folder of images into an .npz, upload it, train on it.",
    )
    commands = dataset.add_subparsers(dest="dataset_command", required=True)
    pack = commands.add_parser(
        "pack",
        help="DIR/train/<class>/*.png and DIR/val/<class>/*.png -> an .npz",
        description="Pack an ImageFolder-style folder (DIR/train/<class>/..., DIR/val/<class>/...) into an .npz.",
    )
    pack.add_argument("folder", metavar="DIR", help="the folder holding train/<class>/ and val/<class>/")
    pack.add_argument("out", metavar="OUT.npz", help="the .npz to write")
    pack.set_defaults(func=cmd_pack)

    def api(name: str, func: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text, description=help_text[:1].upper() + help_text[1:] + ".")
        add_url_option(command)
        command.set_defaults(func=func)
        return command

    upload = api("upload", cmd_upload, "upload an .npz (x_train, y_train, x_val, y_val, optionally class_names)")
    upload.add_argument("file", metavar="FILE.npz", help="the .npz to upload (lesde dataset pack writes one)")
    upload.add_argument("--name", help="a name to list it by (default: none)")
    upload.add_argument("--wait", action="store_true", help="wait for its validation and print what it holds (default: off)")
    listing = api("list", cmd_list, "list your data sets, newest first")
    listing.add_argument("--limit", type=int, default=50, help="at most this many, 1 to 500 (default: %(default)s)")
    api("show", cmd_show, "a data set's status, shape, classes and counts").add_argument("id", help="the data set's id")
    api("delete", cmd_delete, "delete a data set (refused while an experiment on it is unfinished)").add_argument(
        "id", help="the data set's id"
    )
