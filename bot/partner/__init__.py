"""The partner cabinet's services: periods, statistics, exports, charts, referral links, payouts.

Platform-neutral: everything here works on a :class:`bot.platforms.base.PartnerCabinet` scoped to the
partner's own key. Money stays ``Decimal`` as the API wrote it and is never converted between currencies.
"""
