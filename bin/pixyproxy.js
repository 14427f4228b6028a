#!/usr/bin/env node
import '../dist/cli/pixyproxy.js';
