#!/bin/sh
echo '{"cache": ["c1"], "web": {"hosts": ["w1"]}, "_meta": {"hostvars": {"c1": {"z": 1}}}}'
