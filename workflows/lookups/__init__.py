"""逢办必查 look-ups: a credit look-up of a subject before a deal (procurement, bidding, funding,
honours, appointment), by staff with the `checker` role or other systems through the API. Every
look-up is kept with what it found; a hit is flagged 需审慎办理; a deal that went ahead despite a hit
records why; a monthly report per department counts them.
"""
