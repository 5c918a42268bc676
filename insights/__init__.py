"""Executive summary, blind spots, actions, backtest and segment trends; reads every app."""
