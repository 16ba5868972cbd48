"""The seeded synthetic fleet: the embedded default's data source.

    calendar.py  the big-promotion calendar (11.11, 12.12, 6.18, 4.19) in Beijing time
    fleet.py     product lines, businesses, clusters, instances, series (+ signal parameters)
    signals.py   vectorised deterministic values and hourly rollups
    truth.py     the ground truth behind the data: lifts per business and promotion, incidents,
                 scale-outs
    source.py    writes the fleet into a store (bootstrap with resume, live ticks)
"""
