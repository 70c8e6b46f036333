"""Collection compiler of the BioImage Model Zoo / RI-SCALE Model Hub."""

__version__ = "0.1.0"
