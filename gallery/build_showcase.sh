#!/usr/bin/env bash
# The gallery showcase in gallery/showcase: eight CMS events, dimuon candidates from 2018
# collision data (entries 0-15 of nano_dimuon.root) and multijet events (TeV dijets) from a simulated PFNano
# file (entries 40-49 across both inputs), built by one ispyrender command.
# Run from anywhere; needs the shared data folder beside the repository (../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data/nanoaod
# A gallery replaces only a folder holding nothing but its own files (.ispyrender-gallery.json).
ispyrender gallery "$data/nano_dimuon.root" "$data/pfnano.root" \
    --events 0:16,40:50 \
    --where '(nMuon >= 2 and Muon_pt[0] > 25 and Muon_pt[1] > 20) or (nJet >= 3 and Jet_pt[2] > 60)' \
    --max-events 8 --out gallery/showcase --overwrite --quiet \
    --set canvas.width=960 --set canvas.height=540
