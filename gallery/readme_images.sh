#!/usr/bin/env bash
# The pictures at the top of the README: one real event per preset and command, rendered from
# the real files in ../shared/data. Run from anywhere with ispyrender on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
small=(--set canvas.width=960 --set canvas.height=540 --overwrite --quiet --out gallery)

# render, publication: 2018 collision data, two muons.
ispyrender render "$data/nanoaod/nano_dimuon.root" --ids 315267:205:197713878 "${small[@]}" \
    --set 'output.name_template=dimuon_run{run}_event{event}.png'
# render, transverse: the same event along the beam.
ispyrender render "$data/nanoaod/nano_dimuon.root" --ids 315267:205:197713878 --style transverse \
    "${small[@]}" --set 'output.name_template=dimuon_transverse_run{run}_event{event}.png'
# render, outreach: PFNano simulation with the PF candidates' calorimeter towers.
ispyrender render "$data/nanoaod/pfnano.root" --ids 1:17359:1735811 --style outreach "${small[@]}" \
    --set 'output.name_template=pfnano_outreach_event{event}.png'
# render, outreach: the 2012 H -> 4 leptons candidate of the iSpy file.
ispyrender render "$data/ig/Hto4l_120-130GeV.ig" --ids 199319:1203594102 --style outreach \
    "${small[@]}" --set 'output.name_template=ispy_h4l_run{run}_event{event}.png'
# figure, paper: the same event in 3D, rho-phi and rho-z with its object table.
ispyrender figure "$data/ig/Hto4l_120-130GeV.ig" --ids 199319:1203594102 --style paper \
    --overwrite --quiet --out gallery --set figure.table=right \
    --set 'output.name_template=ispy_h4l_figure_run{run}_event{event}.png'
# figure, lego: a PFNano dijet event unrolled in eta-phi.
ispyrender figure "$data/nanoaod/pfnano.root" --ids 1:17359:1735802 --style lego \
    --overwrite --quiet --out gallery --set canvas.width=1000 --set canvas.height=720 \
    --set 'output.name_template=pfnano_lego_event{event}.png'
# gallery: the thumbnails of twelve dimuon events, as the gallery's index shows them.
ispyrender gallery "$data/nanoaod/nano_dimuon.root" --max-events 12 --out "$tmp/site" --quiet
python - "$tmp/site/thumbs" gallery/dimuon_thumbnails.jpg <<'PY'
import sys
from pathlib import Path
from PIL import Image
thumbs = sorted(Path(sys.argv[1]).glob("*.jpg"))[:12]
w, h, gap = 320, 180, 6
sheet = Image.new("RGB", (4 * w + 5 * gap, 3 * h + 4 * gap), "#d0d0d0")
for i, path in enumerate(thumbs):
    sheet.paste(Image.open(path), (gap + (i % 4) * (w + gap), gap + (i // 4) * (h + gap)))
sheet.save(sys.argv[2], quality=85)
PY
# animate, collision: a frame of the outreach movie of the H -> 4 leptons candidate.
ispyrender animate "$data/ig/Hto4l_120-130GeV.ig" --ids 199319:1203594102 --style collision \
    --set animation.scale=0.5 --out "$tmp/movie" --quiet
python - "$tmp/movie" gallery/ispy_h4l_movie_frame.png <<'PY'
import sys
from pathlib import Path
import av
movie = next(Path(sys.argv[1]).glob("*.mp4"))
with av.open(str(movie)) as container:
    frames = list(container.decode(video=0))
frames[int(len(frames) * 0.8)].to_image().save(sys.argv[2])
PY
