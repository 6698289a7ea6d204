"""The office's red round electronic seal (电子印章), drawn once per process and shown as the
appearance of the document's signature.

The seal is the shape of an official Chinese seal: a red rim, the office's name around the upper
arc, a five-pointed star in the middle and the seal's title under the star. It is drawn with Pillow
from the system's Noto Serif CJK (bold, Simplified Chinese face) and kept as two compressed image
streams (the colour, one flat red; the shape, an 8-bit soft mask), so every signature only adds
these bytes to its PDF, with no font to subset and no drawing per document."""
from __future__ import annotations

import math
import threading
import zlib
from dataclasses import dataclass
from functools import lru_cache

SEAL_FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"
SEAL_RED = (214, 0, 0)
SEAL_TITLE = "电子印章"
SIZE_PX = 560          # 40 mm across: about 350 dpi
_lock = threading.Lock()


@dataclass(frozen=True)
class SealImage:
    width: int
    height: int
    colour: bytes       # Flate-compressed DeviceRGB samples
    mask: bytes         # Flate-compressed DeviceGray samples: the soft mask (the seal's shape)


@lru_cache(maxsize=4)
def face_index(path: str) -> int:
    """The Simplified Chinese face of a Noto CJK collection (face 0 is the Japanese one)."""
    from PIL import ImageFont
    for index in range(16):
        try:
            family, _style = ImageFont.truetype(path, 10, index=index).getname()
        except OSError:
            break
        if family.endswith(" SC"):
            return index
    raise FileNotFoundError(f"no Simplified Chinese face in {path} (apt-get install fonts-noto-cjk)")


def _font(size: int):
    from PIL import ImageFont
    return ImageFont.truetype(SEAL_FONT, size, index=face_index(SEAL_FONT))


def star_points(cx: float, cy: float, outer: float, inner_ratio: float = 0.382) -> list[tuple[float, float]]:
    """The ten corners of a five-pointed star pointing up (image coordinates: y grows downwards)."""
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else outer * inner_ratio
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _glyph(char: str, font, height: int, width: int):
    """One character on a transparent tile, squeezed to `width` (seal lettering is tall and narrow)."""
    from PIL import Image, ImageDraw
    left, top, right, bottom = font.getbbox(char)
    tile = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(tile).text((-left, -top), char, fill=255, font=font)
    return tile.resize((max(1, width), max(1, height)), Image.LANCZOS)


def draw_seal(office_name: str, title: str = SEAL_TITLE, size: int = SIZE_PX):
    """The seal as a Pillow 'L' image: 255 where the seal inks, 0 where the page shows through."""
    from PIL import Image, ImageDraw
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    c = size / 2
    radius = size / 2 - 2
    rim = size * 0.035
    draw.ellipse((c - radius, c - radius, c + radius, c + radius), outline=255, width=round(rim))
    draw.polygon(star_points(c, c, size * 0.15), fill=255)

    # the name around the upper arc, clockwise from the lower left, each character facing the centre
    name = "".join((office_name or "").split()) or "—"
    n = len(name)
    span = math.radians(min(250.0, 40.0 + 13.0 * n)) if n > 1 else 0.0
    text_radius = radius - rim - size * 0.022
    char_height = round(size * (0.15 if n <= 10 else 0.135 if n <= 16 else 0.12))
    arc_step = span / (n - 1) if n > 1 else 0.0
    char_width = round(min(char_height * 0.9, (text_radius - char_height / 2) * arc_step * 0.86)) if n > 1 \
        else char_height
    font = _font(char_height * 2)
    for i, char in enumerate(name):
        angle = -span / 2 + i * arc_step          # 0 at the top, positive clockwise
        tile = _glyph(char, font, char_height, char_width).rotate(-math.degrees(angle), Image.BICUBIC, expand=True)
        middle = text_radius - char_height / 2    # the centre of the character's tile
        x = c + middle * math.sin(angle)
        y = c - middle * math.cos(angle)
        image.paste(255, (round(x - tile.width / 2), round(y - tile.height / 2)), tile)

    # the seal's title under the star, straight
    if title:
        title_height = round(size * 0.095)
        title_font = _font(title_height)
        width = draw.textlength(title, font=title_font)
        limit = 2 * math.sqrt(max(0.0, (radius - rim) ** 2 - (size * 0.3) ** 2)) * 0.9
        if width > limit:      # too wide: squeeze, as a seal's lettering is
            tile = _glyph(title, title_font, title_height, round(limit))
            image.paste(255, (round(c - tile.width / 2), round(c + size * 0.2)), tile)
        else:
            draw.text((c, c + size * 0.2), title, fill=255, font=title_font, anchor="mt")
    return image


@lru_cache(maxsize=8)
def _seal_image(office_name: str, title: str, size: int) -> SealImage:
    mask = draw_seal(office_name, title, size)
    colour = bytes(SEAL_RED) * (size * size)
    return SealImage(size, size, zlib.compress(colour, 9), zlib.compress(mask.tobytes(), 6))


def seal_image(office_name: str, title: str = SEAL_TITLE, size: int = SIZE_PX) -> SealImage:
    with _lock:   # drawn once per office name; concurrent first signatures wait for the one drawing
        return _seal_image(office_name, title, size)


def seal_content(office_name: str, width: float, height: float, title: str = SEAL_TITLE):
    """A pyHanko PdfContent that paints the seal centred in a `width` x `height` box (PDF points),
    multiplied onto the page, so the printed name and date under it stay legible."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.content import PdfContent, ResourceType
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.layout import BoxConstraints

    seal = seal_image(office_name, title)

    class _Seal(PdfContent):
        def render(self) -> bytes:
            writer = self._ensure_writer
            common = {pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Image"),
                      pdf_name("/Width"): generic.NumberObject(seal.width),
                      pdf_name("/Height"): generic.NumberObject(seal.height),
                      pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                      pdf_name("/Filter"): pdf_name("/FlateDecode")}
            mask = writer.add_object(generic.StreamObject(
                {**common, pdf_name("/ColorSpace"): pdf_name("/DeviceGray")}, encoded_data=seal.mask))
            image = writer.add_object(generic.StreamObject(
                {**common, pdf_name("/ColorSpace"): pdf_name("/DeviceRGB"), pdf_name("/SMask"): mask},
                encoded_data=seal.colour))
            self.set_resource(ResourceType.XOBJECT, pdf_name("/OfficeSeal"), image)
            self.set_resource(ResourceType.EXT_G_STATE, pdf_name("/SealInk"),
                              generic.DictionaryObject({pdf_name("/BM"): pdf_name("/Multiply")}))
            side = min(width, height)
            return b"q /SealInk gs %.3f 0 0 %.3f %.3f %.3f cm /OfficeSeal Do Q" % (
                side, side, (width - side) / 2, (height - side) / 2)

    return _Seal(box=BoxConstraints(width=width, height=height))
