"""The rules, one module per domain (DESIGN "Layout"): space, floor, power, cooling.

``state`` builds the rack after a placement once; each domain module holds its rules, each rule once.
``planner.engine.check`` runs them in the order of DESIGN's rule table.
"""
