#!/usr/bin/env node
console.log('nvmf-perf stub');
