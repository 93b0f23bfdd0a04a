#!/usr/bin/env python3
"""Draws www/images/steps.png, the banner of the course's site: the report's six
steps as a pipeline. Run from the repository root (needs Pillow):

    pip install pillow && python3 scripts/make-banner.py
"""
from PIL import Image, ImageDraw, ImageFont

STEPS = ["accept", "receive", "parse", "find file", "respond", "send"]
W, H = 960, 200
img = Image.new("RGB", (W, H), (250, 248, 242))
draw = ImageDraw.Draw(img)
try:
    font = ImageFont.truetype("DejaVuSans-Bold.ttf", 22)
    small = ImageFont.truetype("DejaVuSans.ttf", 15)
except OSError:
    font = small = ImageFont.load_default()

colors = [(38, 70, 83), (42, 157, 143), (233, 196, 106), (244, 162, 97), (231, 111, 81), (120, 90, 160)]
box_w, gap, top = 130, 24, 60
left = (W - (len(STEPS) * box_w + (len(STEPS) - 1) * gap)) // 2
for i, (step, color) in enumerate(zip(STEPS, colors)):
    x = left + i * (box_w + gap)
    draw.rounded_rectangle([x, top, x + box_w, top + 80], radius=14, fill=color)
    label = f"({'i ii iii iv v vi'.split()[i]})"
    for text, f, y in [(label, small, top + 12), (step, font, top + 38)]:
        tw = draw.textlength(text, font=f)
        draw.text((x + (box_w - tw) / 2, y), text, fill="white", font=f)
    if i < len(STEPS) - 1:
        ax = x + box_w + 4
        draw.polygon([(ax, top + 32), (ax + gap - 8, top + 40), (ax, top + 48)], fill=(90, 90, 90))
caption = "one request, six steps: every stage of the course runs this pipeline"
tw = draw.textlength(caption, font=small)
draw.text(((W - tw) / 2, top + 100), caption, fill=(80, 80, 80), font=small)
img.save("www/images/steps.png", optimize=True)
print("wrote www/images/steps.png")
