#!/usr/bin/env bash
# Peer benchmark: vitscope against ONNX Runtime (CPU) and PyTorch, in one run, on the same machine,
# models, batch sizes and thread counts.
#
#   scripts/bench_peers.sh [--quick] [--build-dir build]
#                          [--models deit_tiny,deit_small,vit_base,mobilenet_v1,resnet18,resnet50]
#                          [--batches 1,8] [--threads 2,1] [--rounds 3] [--photo samples/chelsea.png]
#                          [--int8-photos ../shared/images/imagenet-100] [--baseline-build DIR]
#
# What it does, from a clean clone (Debian 12, run as root or with sudo for apt):
#   1. installs what is missing: python3-torch, python3-torchvision, python3-pil, python3-numpy,
#      python3-onnx (writes the int8 graphs), libopenblas0-pthread (PyTorch's BLAS), nodejs/npm;
#      builds vitscope (Release) into the build folder when <build-dir>/vitscope is missing;
#      `npm ci --ignore-scripts` of onnxruntime-node
#      (scripts/bench/package.json + package-lock.json) into .cache/bench (its Linux x64 CPU library
#      ships inside the npm package).
#   2. models: DeiT-Tiny/16 and MobileNet v1 0.75/224 with their real weights
#      (deit_tiny_patch16_224.safetensors, and mobilenet_v1_0.75_224.safetensors with Keras names, in
#      $VITSCOPE_WEIGHTS_DIR, weights/ or ../shared/models), random-weight DeiT-Small/16 and ViT-Base/16
#      (scripts/bench/make_random_vit.py, fixed seed, timm names, F32) and ResNet-18 and ResNet-50
#      (scripts/bench/make_random_cnn.py: torchvision.models.resnet18/50(weights=None) after
#      torch.manual_seed(0), torchvision's initialisation unchanged, torchvision names, F32, without
#      num_batches_tracked), both into .cache/bench/models, a file with the same metadata kept; each is
#      exported to ONNX by PyTorch from the same safetensors file vitscope loads
#      (scripts/bench/export_onnx.py --arch, opset 17, into .cache/bench/onnx; the PyTorch modules of
#      scripts/bench/torch_models.py: the reference ViT of scripts/golden/vit_reference.py, torchvision's
#      ResNet, KerasMobileNetV1 of scripts/golden/cnn_reference.py), and each ViT's export
#      is quantized to int8 next to it (<model>.int8.onnx, with a <model>.int8.json record) by
#      scripts/bench/quantize_onnx_dynamic.py, which builds with the onnx library the graph ONNX Runtime's
#      quantize_dynamic builds (its Python package is not installable here): every MatMul with a constant
#      weight (qkv, proj, fc1, fc2 of each block) becomes DynamicQuantizeLinear of the activation (uint8,
#      per tensor, at run time) -> MatMulInteger with the int8 weight (symmetric, zero point 0, one scale
#      per output channel as quantize_dynamic(per_channel=True); --per-tensor in the script for its
#      default) -> Cast -> Mul by activation scale x weight scale, the bias Add unchanged; ONNX Runtime
#      fuses each into a DynamicQuantizeMatMul. Attention's q·kᵀ and p·v, the patch-embedding Conv and
#      the head (a Gemm) stay fp32 (attention is bf16 under `vitscope --precision int8`, which also
#      quantizes the patch embedding and the head; the script's --quantize-conv, a ConvInteger as
#      quantize_dynamic's default makes it, was measured slower in ONNX Runtime and less accurate, so
#      ORT int8 is timed without it: see the script's header). The CNNs get no int8 graph:
#      vitscope's CNNs run in fp32 only (--precision bf16 or int8 on a CNN is an error), so there is
#      nothing to set an int8 graph against.
#   3. checks, before any timing, that the engines compute the same function
#      (scripts/bench/check_engines.py): ONNX Runtime vs PyTorch logits within 1e-3 on three images;
#      `vitscope classify --topk 5` vs PyTorch + PIL on the photo: identical top-5 classes,
#      probabilities within 1e-3, the photo preprocessed as vitscope preprocesses the file (checked
#      against the preprocess line of `vitscope info FILE`): Resize(256), CenterCrop(224), bicubic with
#      ImageNet's mean and std (timm's eval transform; vitscope's default for a file weights/models.json
#      does not list, which is why the random ResNets are random_resnet18/50.safetensors: the manifest's
#      resnet18/50.safetensors, timm's trained weights, have crop_pct 0.95), for MobileNet bilinear with
#      mean = std = 0.5 (its models.json entry, Keras's x / 127.5 - 1); then, for the ViTs,
#      ONNX Runtime int8 against ONNX Runtime fp32
#      (scripts/bench/check_int8.py, one image per run): for DeiT-Tiny (real weights) the top-1
#      agreement and mean KL(fp32 || int8) on the photos of --int8-photos (the 100 ImageNet photos of
#      ../shared/images/imagenet-100; at least 90% agreement), for the random-weight models (whose top-1
#      means nothing) the logit correlation (at least 0.99) and largest difference on the three images
#      above. Any failure, an int8 graph that does not run included, stops the script (exit 1).
#   4. times each (model, batch, threads) with vitscope (`vitscope bench`, --precision fp32, bf16 and
#      int8), ONNX Runtime fp32 and int8 (scripts/bench/run_ort.mjs on the fp32 and the int8 graph:
#      intra-op threads T, inter-op 1, optimisation 'all', sequential) and
#      PyTorch (scripts/bench/run_torch.py: eager, inference_mode, T OpenMP and T OpenBLAS threads,
#      OMP_WAIT_POLICY=PASSIVE: spinning OpenMP workers starve OpenBLAS's) and, with 2 or more
#      threads, PyTorch as installed (the same without OMP_WAIT_POLICY), one engine after the other,
#      with the same warm-up and timed iteration counts per row, from the model's multiply-adds times
#      the batch (from 5 + 31 for DeiT-Tiny and MobileNet batch 1 down to 2 + 5 for ViT-Base and
#      ResNet-50 batch 8). vitscope (fp32, bf16, int8) and ONNX Runtime (fp32, int8), whose ratios are
#      the target, are measured in --rounds alternating rounds (default 3, 1 with --quick): this
#      machine's speed drifts by ±10% over minutes, and alternating lets the engines meet the same drift.
#      CNN rows time vitscope fp32, ONNX Runtime fp32 and PyTorch only (see 2). The full run of all six
#      models took 26 minutes on the 2-core Zen 4 machine (run 20261207-051219, models and ONNX files
#      already in .cache/bench).
#   5. prints a Markdown table (scripts/bench/summarize.py): median ms per image of each engine, the
#      ratios vitscope/ORT (and the range of its per-round ratios), vitscope/PyTorch and
#      vitscope/PyTorch as installed, vitscope's GFLOP/s, vitscope with --precision bf16 (bf16
#      products, fp32 accumulation) against ONNX Runtime fp32, and vitscope with --precision int8 (every
#      linear layer in int8: weights per output channel, activations per token) against ONNX Runtime
#      fp32 and against ONNX Runtime int8 (the graph of step 2); "—" where a column does not apply
#      (the CNNs' bf16 and int8 columns).
# Raw JSON of every check and measurement, the table and the load averages go to
# .cache/bench/results/<date-time>/ (.cache/bench/results/latest points at the newest run).
# The machine should be otherwise idle: other work on the same cores shows up in every column.
# --quick: DeiT-Tiny and DeiT-Small (unless --models), batch 1, 2 threads, fewer iterations (a minute
#   or two).
# --int8-photos DIR: the photos (with labels.csv, optional) of the DeiT-Tiny int8 check.
# --baseline-build DIR: also times DIR/vitscope (fp32; another version's build, e.g. a worktree of an
#   earlier commit) in the same alternating rounds, and prints a second table: before against after.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench_src="$repo/scripts/bench"
cache="$repo/.cache/bench"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "bench_peers: $*" >&2; exit 1; }
log() { echo "bench_peers: $*" >&2; }

quick=0
build_dir="build"
models="deit_tiny,deit_small,vit_base,mobilenet_v1,resnet18,resnet50"
batches="1,8"
thread_counts="2,1"
photo="samples/chelsea.png"
int8_photos="../shared/images/imagenet-100"
rounds=3
baseline_build=""
models_set=0 batches_set=0 threads_set=0 rounds_set=0
while (($#)); do
  case "$1" in
    --quick) quick=1; shift ;;
    --build-dir) build_dir="${2:?--build-dir needs a folder}"; shift 2 ;;
    --models) models="${2:?--models needs a list}"; models_set=1; shift 2 ;;
    --batches) batches="${2:?--batches needs a list}"; batches_set=1; shift 2 ;;
    --threads) thread_counts="${2:?--threads needs a list}"; threads_set=1; shift 2 ;;
    --photo) photo="${2:?--photo needs an image}"; shift 2 ;;
    --int8-photos) int8_photos="${2:?--int8-photos needs a folder}"; shift 2 ;;
    --rounds) rounds="${2:?--rounds needs a count}"; rounds_set=1; shift 2 ;;
    --baseline-build) baseline_build="${2:?--baseline-build needs a folder}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
if ((quick)); then
  ((models_set)) || models="deit_tiny,deit_small"
  ((batches_set)) || batches="1"
  ((threads_set)) || thread_counts="2"
  ((rounds_set)) || rounds=1
fi
IFS=, read -r -a model_list <<<"$models"
IFS=, read -r -a batch_list <<<"$batches"
IFS=, read -r -a thread_list <<<"$thread_counts"
for m in "${model_list[@]}"; do
  [[ "$m" =~ ^(deit_tiny|deit_small|vit_base|mobilenet_v1|resnet18|resnet50)$ ]] ||
    die "--models: unknown model '$m' (deit_tiny, deit_small, vit_base, mobilenet_v1, resnet18, resnet50)"
done
for n in "${batch_list[@]}" "${thread_list[@]}" "$rounds"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--batches/--threads/--rounds: '$n' is not a positive integer"
done
[[ "$build_dir" = /* ]] || build_dir="$repo/$build_dir"
[[ "$photo" = /* ]] || photo="$repo/$photo"
[[ -f "$photo" ]] || die "$photo: photo not found"
[[ "$int8_photos" = /* ]] || int8_photos="$repo/$int8_photos"
if [[ ",$models," == *,deit_tiny,* && ! -d "$int8_photos" ]]; then
  die "$int8_photos: no such folder for the DeiT-Tiny int8 check (pass --int8-photos DIR)"
fi
if [[ -n "$baseline_build" ]]; then
  [[ -x "$baseline_build/vitscope" ]] || die "--baseline-build: $baseline_build/vitscope is not a built vitscope"
  baseline_build="$(cd "$baseline_build" && pwd)"
fi

# --- 1. packages, build, ONNX Runtime ------------------------------------------------------------
install_missing_packages() {
  local wanted=(python3-torch python3-torchvision python3-pil python3-numpy python3-onnx libopenblas0-pthread)
  command -v node >/dev/null || wanted+=(nodejs)
  command -v npm >/dev/null || wanted+=(npm)
  local missing=() p
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  local sudo_cmd=()
  [[ "$(id -u)" -ne 0 ]] && sudo_cmd=(sudo)
  log "installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build_vitscope() {
  if [[ ! -x "$build_dir/vitscope" ]]; then
    log "building vitscope (Release) in $build_dir"
    cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >&2
    cmake --build "$build_dir" --target vitscope -j"$(nproc)" >&2
  fi
  local type
  type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)"
  [[ "$type" == Release || "$type" == RelWithDebInfo ]] ||
    die "$build_dir: CMAKE_BUILD_TYPE is '${type:-unset}'; timings need an optimised build (pass another --build-dir)"
}

install_onnxruntime() {
  mkdir -p "$cache"
  if cmp -s "$bench_src/package-lock.json" "$cache/package-lock.json" &&
     [[ -f "$cache/node_modules/onnxruntime-node/package.json" ]]; then
    return 0
  fi
  log "installing onnxruntime-node into $cache (npm ci --ignore-scripts)"
  cp "$bench_src/package.json" "$bench_src/package-lock.json" "$cache/"
  (cd "$cache" && npm ci --ignore-scripts --no-audit --no-fund >&2)
}

install_missing_packages
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 18)) || die "node $(node --version) is too old; onnxruntime-node needs 18 or newer"
build_vitscope
install_onnxruntime
vitscope="$build_dir/vitscope"
python=/usr/bin/python3

# --- 2. models and their ONNX exports -------------------------------------------------------------
# Per model: its weights, vitscope's model options (--heads for a ViT; a CNN is told by its tensor
# names), the PyTorch scripts' (--arch, --heads), its ONNX exports, and whether it has the int8 path.
declare -A weights_of vitscope_args_of torch_args_of onnx_of onnx_int8_of has_int8
find_real_weights() {  # key file: the real weights, in $VITSCOPE_WEIGHTS_DIR, weights/ or ../shared/models
  local dir
  for dir in "${VITSCOPE_WEIGHTS_DIR:-}" "$repo/weights" "$repo/../shared/models"; do
    if [[ -n "$dir" && -f "$dir/$2" ]]; then
      weights_of[$1]="$(cd "$dir" && pwd)/$2"
      return 0
    fi
  done
  die "$2 not found in weights/ or ../shared/models (run scripts/fetch_weights.sh)"
}
for key in "${model_list[@]}"; do
  case "$key" in
    deit_tiny) find_real_weights "$key" deit_tiny_patch16_224.safetensors; heads=3 ;;
    deit_small) weights_of[$key]="$cache/models/random_deit_small_patch16_224.safetensors"; heads=6 ;;
    vit_base) weights_of[$key]="$cache/models/random_vit_base_patch16_224.safetensors"; heads=12 ;;
    mobilenet_v1) find_real_weights "$key" mobilenet_v1_0.75_224.safetensors ;;
    resnet18|resnet50) weights_of[$key]="$cache/models/random_$key.safetensors" ;;  # random_*: see step 3
  esac
  case "$key" in
    deit_tiny|deit_small|vit_base)
      vitscope_args_of[$key]="--heads $heads" torch_args_of[$key]="--arch vit --heads $heads" has_int8[$key]=1 ;;
    *) vitscope_args_of[$key]="" torch_args_of[$key]="--arch $key" has_int8[$key]=0 ;;
  esac
  onnx_of[$key]="$cache/onnx/$(basename "${weights_of[$key]%.safetensors}").onnx"
  onnx_int8_of[$key]="${onnx_of[$key]%.onnx}.int8.onnx"
done

stale() {  # target sources...: true when target is missing or older than one of the sources
  local target="$1" source
  shift
  [[ -f "$target" ]] || return 0
  for source; do [[ "$target" -ot "$source" ]] && return 0; done
  return 1
}

prepare_model() {  # key: writes the random weights when needed, exports and quantizes the ONNX file when stale
  local key="$1" weights="${weights_of[$1]}" onnx="${onnx_of[$1]}" onnx_int8="${onnx_int8_of[$1]}"
  local torch_args
  read -r -a torch_args <<<"${torch_args_of[$key]}"
  case "$key" in
    deit_small|vit_base) "$python" "$bench_src/make_random_vit.py" --shape "$key" --out "$weights" >&2 ;;
    resnet18|resnet50) "$python" "$bench_src/make_random_cnn.py" --arch "$key" --out "$weights" >&2 ;;
  esac
  if stale "$onnx" "$weights" "$bench_src/export_onnx.py" "$bench_src/torch_models.py" \
       "$repo/scripts/golden/vit_reference.py" "$repo/scripts/golden/cnn_reference.py"; then
    "$python" "$bench_src/export_onnx.py" --weights "$weights" "${torch_args[@]}" --out "$onnx" >&2
  fi
  ((has_int8[$key])) || return 0
  if stale "$onnx_int8" "$onnx" "$bench_src/quantize_onnx_dynamic.py"; then
    "$python" "$bench_src/quantize_onnx_dynamic.py" --onnx "$onnx" --out "$onnx_int8" >&2
  fi
}

run_dir="$cache/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$run_dir"
ln -sfn "$(basename "$run_dir")" "$cache/results/latest"
{
  echo "{\"started\": \"$(date -Iseconds)\", \"commit\": \"$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)\","
  echo " \"cpu\": \"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)\", \"cores\": $(nproc),"
  echo " \"models\": \"$models\", \"batches\": \"$batches\", \"threads\": \"$thread_counts\", \"rounds\": $rounds, \"quick\": $quick,"
  echo " \"loadavg_at_start\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
} >"$run_dir/run.json"

for key in "${model_list[@]}"; do
  prepare_model "$key"
done

# --- 3. agreement checks --------------------------------------------------------------------------
for key in "${model_list[@]}"; do
  read -r -a torch_args <<<"${torch_args_of[$key]}"
  "$python" "$bench_src/check_engines.py" --weights "${weights_of[$key]}" "${torch_args[@]}" \
    --onnx "${onnx_of[$key]}" --vitscope "$vitscope" --ort-dir "$cache" --photo "$photo" \
    --workdir "$cache/check" --out "$run_dir/check_$key.json" >&2 ||
    die "$key: the engines disagree (details: $run_dir/check_$key.json); no timing was done"
  ((has_int8[$key])) || continue
  if [[ "$key" == deit_tiny ]]; then
    int8_images=(--images "$int8_photos")  # real weights: top-1 agreement and KL on the photos
  else
    int8_images=(--photo "$photo")  # random weights: logit correlation on three images
  fi
  "$python" "$bench_src/check_int8.py" --onnx "${onnx_of[$key]}" --onnx-int8 "${onnx_int8_of[$key]}" \
    "${int8_images[@]}" --ort-dir "$cache" --workdir "$cache/check" --out "$run_dir/check_int8_$key.json" \
    --min-agreement 0.9 --min-correlation 0.99 >&2 ||
    die "$key: ONNX Runtime's int8 graph fails or is far from its fp32 graph" \
      "(details: $run_dir/check_int8_$key.json); no timing was done"
done

# --- 4. timing ------------------------------------------------------------------------------------
# Warm-up and timed iterations per (model, batch): odd counts, so every engine's median is one run.
# work: tenths of a billion multiply-adds per forward pass (GMAC, the papers' "GFLOPs"; vitscope info
# gives both): the CNNs as counted (MobileNet v1 0.75 0.33 GMAC = 0.65 GFLOP, ResNet-18 1.81 = 3.63,
# ResNet-50 4.09 = 8.18), the ViTs at their earlier rough values (1.25, 4.6 and 17.6 counted).
iterations_for() {  # key batch -> "warmup iterations"
  local work
  case "$1" in
    deit_tiny) work=10 ;; deit_small) work=40 ;; vit_base) work=140 ;;
    mobilenet_v1) work=3 ;; resnet18) work=18 ;; resnet50) work=41 ;;
  esac
  work=$((work * $2))
  if ((quick)); then
    if ((work <= 80)); then echo "2 9"; elif ((work <= 400)); then echo "1 5"; else echo "1 3"; fi
  else
    if ((work <= 40)); then echo "5 31"; elif ((work <= 140)); then echo "3 15";
    elif ((work <= 400)); then echo "3 11"; else echo "2 5"; fi
  fi
}

measure() {  # engine command... : one JSON line into ${prefix}_<engine>${suffix}.json; the load goes to load.tsv
  local engine="$1" out="${prefix}_$1${suffix}.json"
  shift
  printf '%s\t%s\t%s\t%s\t%s\n' "$key" "$batch" "$threads" "$engine" "$(cut -d' ' -f1 /proc/loadavg)" \
    >>"$run_dir/load.tsv"
  "$@" >"$out.part" || die "$engine failed: $*"
  mv "$out.part" "$out"
}

for key in "${model_list[@]}"; do
  weights="${weights_of[$key]}"
  read -r -a vitscope_args <<<"${vitscope_args_of[$key]}"
  read -r -a torch_args <<<"${torch_args_of[$key]}"
  if ((has_int8[$key])); then precisions="vitscope (fp32, bf16, int8) and ONNX Runtime (fp32, int8)"
  else precisions="vitscope and ONNX Runtime (fp32)"; fi
  for batch in "${batch_list[@]}"; do
    read -r warmup iterations <<<"$(iterations_for "$key" "$batch")"
    for threads in "${thread_list[@]}"; do
      prefix="$run_dir/${key}_b${batch}_t${threads}"
      log "$key batch $batch threads $threads: $warmup warm-up + $iterations timed runs per engine, $precisions in $rounds round(s)"
      counts=(--batch "$batch" --threads "$threads" --warmup "$warmup" --iterations "$iterations")
      for ((round = 1; round <= rounds; round++)); do
        suffix=$( ((rounds > 1)) && echo "_r$round" || true)
        measure vitscope "$vitscope" bench --model "$weights" "${vitscope_args[@]}" "${counts[@]}" --format json
        if ((has_int8[$key])); then
          measure vitscopebf "$vitscope" bench --model "$weights" "${vitscope_args[@]}" "${counts[@]}" --format json \
            --precision bf16
          measure vitscopeint8 "$vitscope" bench --model "$weights" "${vitscope_args[@]}" "${counts[@]}" \
            --format json --precision int8
        fi
        measure onnxruntime node "$bench_src/run_ort.mjs" --onnx "${onnx_of[$key]}" --ort-dir "$cache" "${counts[@]}"
        if ((has_int8[$key])); then
          measure onnxruntimeint8 node "$bench_src/run_ort.mjs" --onnx "${onnx_int8_of[$key]}" --ort-dir "$cache" \
            "${counts[@]}"
        fi
        if [[ -n "$baseline_build" ]]; then
          measure vitscopebase "$baseline_build/vitscope" bench --model "$weights" "${vitscope_args[@]}" \
            "${counts[@]}" --format json
        fi
      done
      suffix=""
      measure pytorch "$python" "$bench_src/run_torch.py" --weights "$weights" "${torch_args[@]}" "${counts[@]}"
      # PyTorch as installed differs from the tuned run only when several threads wait on each other.
      if ((threads > 1)); then
        measure pytorchdefault "$python" "$bench_src/run_torch.py" --weights "$weights" "${torch_args[@]}" \
          "${counts[@]}" --omp-wait-policy default
      fi
    done
  done
done

# --- 5. table -------------------------------------------------------------------------------------
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$python" "$bench_src/summarize.py" "$run_dir" --models "$models"
log "raw results: $run_dir"
