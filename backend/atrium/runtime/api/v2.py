from ninja import Router

router = Router(tags=["v2"])
