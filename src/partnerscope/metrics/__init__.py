"""The metric engine: locked definitions compiled to Ibis and computed per partner × period."""
