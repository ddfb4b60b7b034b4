"""Download the real CMS test files from their public origins and check their sha256.

The tests look for these files in ``$ISPYRENDER_TEST_DATA`` or ``../shared/data`` beside the
repository (the layout below). With internet access::

    python tests/fetch_data.py                  # into ../shared/data
    python tests/fetch_data.py --to ~/cms-data  # then: export ISPYRENDER_TEST_DATA=~/cms-data

Each file is written under a temporary name and renamed only once its checksum matches.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

RAW = "https://raw.githubusercontent.com"

#: (path under the data folder, URL of the public origin, sha256 of the bytes the tests expect)
FILES: tuple[tuple[str, str, str], ...] = (
    (
        "nanoaod/nano_dimuon.root",
        f"{RAW}/CoffeaTeam/coffea/HEAD/tests/samples/nano_dimuon.root",
        "eac7c0a973e054e890766ec4c61ca784d3d49e4f82ec0c8b9dfbe55c233297a9",
    ),
    (
        "nanoaod/nano_dy.root",
        f"{RAW}/CoffeaTeam/coffea/HEAD/tests/samples/nano_dy.root",
        "159b17b34b4d13ea4960d36fb9b01f2a505cc1a5a8de0fb3cfa185154543c81c",
    ),
    (
        "nanoaod/pfnano.root",
        f"{RAW}/CoffeaTeam/coffea/HEAD/tests/samples/pfnano.root",
        "504f10f40146005184a1365dcf8b6c8235983597567fab04d1b4b6cc25603939",
    ),
    (
        "nanoaod/missing_luminosityBlock.root",
        f"{RAW}/CoffeaTeam/coffea/HEAD/tests/samples/missing_luminosityBlock.root",
        "4eaa43a58b0d9d848e8132152b2035d0e1283cea810d0641834e01765f46b038",
    ),
    (
        "nanoaod/nanoAOD_2015_CMS_Open_Data_ttbar.root",
        f"{RAW}/scikit-hep/scikit-hep-testdata/HEAD/src/skhep_testdata/data/"
        "nanoAOD_2015_CMS_Open_Data_ttbar.root",
        "c14a29b25b15b837226f396e920b5d9fb134f3558bef5b0a9db5d6d9606c5f3a",
    ),
    (
        "nanoaod/cmsopendata2015_ttbar_19980_NANOAOD_RNTupleImporter_rntuple_v1-0-0-1.root",
        f"{RAW}/scikit-hep/scikit-hep-testdata/HEAD/src/skhep_testdata/data/"
        "cmsopendata2015_ttbar_19980_NANOAOD_RNTupleImporter_rntuple_v1-0-0-1.root",
        "80782b7d1baa5fe6c7c9746a300245b410d71ddcea506389798bb2d42645e2a6",
    ),
    (
        "nanoaod/EGamma_2022E_v13.root",
        f"{RAW}/tiwariPC/DarkBottomLine/HEAD/tests/samples/skimmed_nano/EGamma_2022E_v13.root",
        "00095fb3d0dd53bff45b7e750cb122e24860e61b3e00e30545b825355d71f9c8",
    ),
    (
        "nanoaod/NanoAODv5_sample.root",
        f"{RAW}/JuliaHEP/UnROOT.jl/HEAD/test/samples/NanoAODv5_sample.root",
        "80bbd11b5c17e8aa5180229a24286753dcfac4e75a60c45013c82dc8bb8c6483",
    ),
    (
        "ig/Hto4l_120-130GeV.ig",
        f"{RAW}/cms-outreach/ispy-webgl/HEAD/data/Hto4l_120-130GeV.ig",
        "b1420556b0785d19c904c3028630df4b93aaefe8f16113feffd0e1f0c1578b7b",
    ),
)

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(folder: Path) -> int:
    failures = 0
    for name, url, expected in FILES:
        target = folder / name
        if target.exists() and sha256(target) == expected:
            print(f"ok       {name}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
                while block := response.read(1 << 20):
                    out.write(block)
            got = sha256(tmp)
            if got != expected:
                print(f"MISMATCH {name}: sha256 {got}, expected {expected} ({url})")
                failures += 1
                continue
            tmp.replace(target)
            print(f"fetched  {name}")
        except OSError as exc:
            print(f"FAILED   {name}: {exc} ({url})")
            failures += 1
        finally:
            tmp.unlink(missing_ok=True)
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to", type=Path, default=DEFAULT, help=f"folder (default {DEFAULT})")
    args = parser.parse_args()
    failures = fetch(args.to.expanduser())
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
