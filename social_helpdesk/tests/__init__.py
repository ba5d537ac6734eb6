from . import test_channels
from . import test_inbound
from . import test_partners
from . import test_processing
from . import test_webhook
from . import test_concurrency
from . import test_security
