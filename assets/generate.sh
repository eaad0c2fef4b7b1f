#!/usr/bin/env bash
# Regenerates Plenum's default audio catalogue from prompts.tsv and voices.tsv:
#   prompts/<lang>/<name>.wav   every row of prompts.tsv, spoken by espeak-ng
#   tones/{entry,exit,beep,hold-music}.wav   synthesized with sox
# All output is 8 kHz mono G.711 µ-law WAV (format 7), the rate and codec the media path
# uses, at half the size of 16-bit PCM. The output is deterministic: fixed voices and speeds,
# no dither (-D), repeatable random numbers (-R), so running it twice changes nothing.
#
# Usage: assets/generate.sh            (from anywhere; needs espeak-ng and sox)
#        JOBS=4 assets/generate.sh     (prompts rendered 4 at a time; default 2)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JOBS=${JOBS:-2}
# Speech and tones sit at this RMS level (dBFS); hold music a little lower.
TARGET_RMS=-16
MUSIC_RMS=-20

need() {
    local missing=()
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    if ((${#missing[@]})); then
        echo "generate.sh: missing ${missing[*]}." >&2
        echo "  Debian/Ubuntu: apt-get install espeak-ng sox" >&2
        exit 1
    fi
}

# SoX with no dither and repeatable random numbers, quiet unless something is wrong.
sx() { sox -D -R -V1 "$@"; }

# The RMS level of a file in dBFS.
rms_db() { sox "$1" -n stats 2>&1 | awk '/^RMS lev dB/ { print $4 }'; }

# Bring $1 to RMS $2 dBFS in place: gain (with sox's limiter when it amplifies), twice (the
# limiter takes a little of the first step back), so every clip lands within about half a dB.
level() {
    local file=$1 target=$2 tmp="$1.lvl.wav" pass rms gain
    for pass in 1 2; do
        rms=$(rms_db "$file")
        gain=$(awk -v r="$rms" -v t="$target" 'BEGIN { printf "%.2f", t - r }')
        if [[ "$gain" == -* ]]; then
            sx "$file" "$tmp" gain "$gain"
        else
            sx "$file" "$tmp" gain -l "$gain"
        fi
        mv "$tmp" "$file"
    done
}

# Store $1 as 8 kHz µ-law at $2.
store() { sx "$1" -r 8000 -c 1 -e u-law "$2"; }

# One prompt: speak, band-limit to the telephone band, trim silence to 50 ms each side,
# compress gently, level, store. Args: voice speed pitch text out.wav
render_prompt() {
    local voice=$1 speed=$2 pitch=$3 text=$4 out=$5 tmp
    tmp=$(mktemp -d "$WORK/p.XXXXXX")
    espeak-ng -b 1 -v "$voice" -s "$speed" -p "$pitch" -w "$tmp/raw.wav" -- "$text"
    sx "$tmp/raw.wav" -r 8000 -c 1 -b 16 "$tmp/clip.wav" \
        gain -6 highpass 120 lowpass 3600 \
        silence 1 0.01 -45d reverse silence 1 0.01 -45d reverse pad 0.05 0.05 \
        compand 0.003,0.08 6:-70,-70,-40,-30,-20,-16,0,-9 0 -90 0.003 norm -1
    level "$tmp/clip.wav" "$TARGET_RMS"
    store "$tmp/clip.wav" "$out"
    rm -rf "$tmp"
}

# Read voices.tsv into VOICE/SPEED/PITCH by language.
declare -A VOICE SPEED PITCH
read_voices() {
    local lang voice speed pitch
    while IFS=$'\t' read -r lang voice speed pitch; do
        [[ -z "$lang" || "$lang" == \#* ]] && continue
        VOICE[$lang]=$voice
        SPEED[$lang]=$speed
        PITCH[$lang]=$pitch
    done <"$HERE/voices.tsv"
}

# Every row of prompts.tsv as a job line for xargs: voice, speed, pitch, text, output,
# separated by NUL. Checks the table as it goes.
prompt_jobs() {
    local name lang text line=0
    declare -A seen=()
    while IFS=$'\t' read -r name lang text; do
        line=$((line + 1))
        [[ -z "$name" || "$name" == \#* ]] && continue
        if [[ ! "$name" =~ ^[a-z0-9]+(-[a-z0-9]+)*$ || -z "$lang" || -z "$text" ]]; then
            echo "prompts.tsv:$line: expected name<TAB>language<TAB>text" >&2
            exit 1
        fi
        if [[ -z "${VOICE[$lang]:-}" ]]; then
            echo "prompts.tsv:$line: language $lang has no voice in voices.tsv" >&2
            exit 1
        fi
        if [[ -n "${seen[$lang/$name]:-}" ]]; then
            echo "prompts.tsv:$line: $name/$lang is listed twice" >&2
            exit 1
        fi
        seen[$lang/$name]=1
        mkdir -p "$OUT/prompts/$lang"
        printf '%s\0%s\0%s\0%s\0%s\0' "${VOICE[$lang]}" "${SPEED[$lang]}" "${PITCH[$lang]}" \
            "$text" "$OUT/prompts/$lang/$name.wav"
    done <"$HERE/prompts.tsv"
}

# A tone of $2 seconds at $3 Hz into $1, with quick fades so it starts and ends at zero.
tone() { sx -n -r 8000 -c 1 -b 16 "$1" synth "$2" sine "$3" fade q 0.01 "$2" 0.04; }

render_tones() {
    local t="$WORK/tones"
    mkdir -p "$t" "$OUT/tones"
    # Entry: a rising two-tone chime (D5 → A5); exit: the same falling.
    tone "$t/lo.wav" 0.14 587.33
    tone "$t/hi.wav" 0.22 880
    sx "$t/lo.wav" "$t/hi.wav" "$t/entry.wav" pad 0.02 0.02
    tone "$t/hi1.wav" 0.14 880
    tone "$t/lo1.wav" 0.22 587.33
    sx "$t/hi1.wav" "$t/lo1.wav" "$t/exit.wav" pad 0.02 0.02
    # Record-after-the-beep: 1 kHz, 250 ms.
    sx -n -r 8000 -c 1 -b 16 "$t/beep.wav" synth 0.25 sine 1000 fade q 0.005 0.25 0.005 pad 0.02 0.02
    for name in entry exit beep; do
        level "$t/$name.wav" "$TARGET_RMS"
        store "$t/$name.wav" "$OUT/tones/$name.wav"
    done
    render_hold_music "$t"
}

# Semitones from A4 of a note name (C4 = -9).
declare -A NOTE=([C3]=-21 [D3]=-19 [E3]=-17 [F3]=-16 [G3]=-14 [A3]=-12 [B3]=-10
    [C4]=-9 [D4]=-7 [E4]=-5 [F4]=-4 [G4]=-2 [A4]=0 [B4]=2
    [C5]=3 [D5]=5 [E5]=7 [F5]=8 [G5]=10 [A5]=12 [B5]=14 [C6]=15)

# ~30 s of hold music: eight chords of 3.75 s (C Am F G C Em F G), each a soft sine pad
# that crossfades into the next, under a plucked arpeggio of eighth notes. The last pad's
# tail is folded back onto the start, so the file loops without a click or a gap.
render_hold_music() {
    local t="$1/music" i j beat=0.46875 chord_len=3.75 xf=0.5 rate=16000
    mkdir -p "$t"
    # Each chord: three pad notes (close voicing around middle C, inside the telephone band),
    # then four arpeggio notes an octave up.
    local chords=("C4 E4 G4 C5 E5 G5 C6" "C4 E4 A4 A4 C5 E5 A5" "C4 F4 A4 F4 A4 C5 F5"
        "B3 D4 G4 G4 B4 D5 G5" "C4 E4 G4 C5 E5 G5 C6" "B3 E4 G4 E4 G4 B4 E5"
        "C4 F4 A4 F4 A4 C5 F5" "B3 D4 G4 G4 B4 D5 G5")
    # Arpeggio pattern over the chord's upper four notes (indices into the chord list).
    local pattern=(3 4 5 6 5 4 3 4)
    local pads=() notes=()
    for i in "${!chords[@]}"; do
        local -a n
        read -r -a n <<<"${chords[$i]}"
        sx -n -r "$rate" -c 3 "$t/pad$i.wav" \
            synth "$(awk -v a=$chord_len -v b=$xf 'BEGIN { print a + b }')" \
            sine "%${NOTE[${n[0]}]}" sine "%${NOTE[${n[1]}]}" sine "%${NOTE[${n[2]}]}" \
            remix - tremolo 0.25 15 fade h "$xf" 0 "$xf" \
            pad "$(awk -v i="$i" -v l=$chord_len 'BEGIN { print i * l }')"
        pads+=(-v 1 "$t/pad$i.wav")
        for j in "${!pattern[@]}"; do
            local note=${n[${pattern[$j]}]}
            sx -n -r "$rate" -c 1 "$t/n$i-$j.wav" synth "$beat" pluck "%${NOTE[$note]}" \
                fade h 0.005 "$beat" 0.3
            notes+=("$t/n$i-$j.wav")
        done
    done
    local total
    total=$(awk -v l=$chord_len -v c=${#chords[@]} 'BEGIN { print l * c }')
    sx -m "${pads[@]}" "$t/pads.wav"
    sx "$t/pads.wav" "$t/head.wav" trim 0 "$total"
    sx "$t/pads.wav" "$t/tail.wav" trim "$total"
    sx -m -v 1 "$t/head.wav" -v 1 "$t/tail.wav" "$t/padloop.wav"
    sx "${notes[@]}" "$t/melody.wav" lowpass 2500
    sx -m -v 0.35 "$t/padloop.wav" -v 0.9 "$t/melody.wav" "$t/mix.wav" trim 0 "$total"
    sx "$t/mix.wav" -r 8000 -b 16 "$t/hold.wav" lowpass 3400 norm -1
    level "$t/hold.wav" "$MUSIC_RMS"
    store "$t/hold.wav" "$OUT/tones/hold-music.wav"
}

main() {
    need espeak-ng sox awk xargs mktemp
    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
    OUT="$WORK/out"
    mkdir -p "$OUT"
    export WORK TARGET_RMS
    export -f render_prompt sx rms_db level store

    read_voices
    local start=$SECONDS
    prompt_jobs >"$WORK/jobs"
    local count
    count=$(tr -cd '\0' <"$WORK/jobs" | wc -c)
    echo "generate.sh: rendering $((count / 5)) prompts with $JOBS jobs..."
    xargs -0 -n 5 -P "$JOBS" bash -c 'set -euo pipefail; render_prompt "$@"' _ <"$WORK/jobs"
    echo "generate.sh: rendering tones and hold music..."
    render_tones

    # Replace the old output whole, so prompts removed from the table disappear too.
    rm -rf "$HERE/prompts" "$HERE/tones"
    mv "$OUT/prompts" "$HERE/prompts"
    mv "$OUT/tones" "$HERE/tones"
    echo "generate.sh: done in $((SECONDS - start)) s;" \
        "$(du -sh "$HERE/prompts" "$HERE/tones" | awk '{ printf "%s %s  ", $2, $1 }')"
}

main "$@"
