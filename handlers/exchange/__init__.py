from handlers.exchange.flow import create_router

__all__ = ["create_router"]
