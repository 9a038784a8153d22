"""ASTERIX (EUROCONTROL surveillance data exchange) -> Detections.

CAT048 monoradar target reports become ``polar`` detections, CAT062 system tracks and
CAT021 ADS-B reports ``position`` detections; the sensor is the registry's sensor whose
``sac``/``sic`` match the record's data source (I010). See docs/ASTERIX.md.

Layers, each usable alone: :mod:`.uap` (item layouts), :mod:`.blocks` (data blocks and
item offsets), :mod:`.cat048`, :mod:`.cat062`, :mod:`.cat021` (items -> a Detection),
:mod:`.decoder` (datagrams, counting), :mod:`.files` (raw files and pcaps).
"""

from .blocks import Malformed, split_blocks, walk
from .decoder import AsterixDecoder
from .fields import anchor
from .files import decode_asterix_file, decode_pcap_file, read_asterix_file, split_raw

__all__ = [
    "AsterixDecoder",
    "Malformed",
    "anchor",
    "decode_asterix_file",
    "decode_pcap_file",
    "read_asterix_file",
    "split_blocks",
    "split_raw",
    "walk",
]
