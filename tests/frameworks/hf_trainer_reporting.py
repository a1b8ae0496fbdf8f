"""hf_trainer.py with the one line vtm-reporting asks for: its callback."""

from hf_trainer import main
from vtm_reporting.huggingface import VtmCallback

if __name__ == "__main__":
    main(callbacks=[VtmCallback()])
