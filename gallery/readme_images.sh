#!/usr/bin/env bash
# The pictures at the top of the README, rendered from the real files in ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data/nanoaod
small=(--set canvas.width=960 --set canvas.height=540 --overwrite --quiet --out gallery)
ispyrender render "$data/nano_dimuon.root" --ids 315267:205:197713878 "${small[@]}" \
    --set 'output.name_template=dimuon_run{run}_event{event}.png'
ispyrender render "$data/pfnano.root" --ids 1:17359:1735811 --style outreach "${small[@]}" \
    --set 'output.name_template=pfnano_outreach_event{event}.png'
ispyrender render ../shared/data/ig/Hto4l_120-130GeV.ig --ids 199319:1203594102 --style outreach "${small[@]}" \
    --set 'output.name_template=ispy_h4l_run{run}_event{event}.png'
ispyrender figure ../shared/data/ig/Hto4l_120-130GeV.ig --ids 199319:1203594102 --overwrite --quiet \
    --out gallery --set 'output.name_template=ispy_h4l_figure_run{run}_event{event}.png' \
    --set 'figure.panels=[{view: rho_phi}, {view: rho_z}, {view: lego}]' --set figure.columns=3
