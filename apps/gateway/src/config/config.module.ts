import { Global, Module, type DynamicModule } from '@nestjs/common';
import { CONFIG, RUNTIME, SECRETS, type GatewayRuntime } from './runtime.js';

@Global()
@Module({})
export class ConfigModule {
  static forRoot(runtime: GatewayRuntime): DynamicModule {
    const providers = [
      { provide: RUNTIME, useValue: runtime },
      { provide: CONFIG, useValue: runtime.config },
      { provide: SECRETS, useValue: runtime.secrets },
    ];
    return { module: ConfigModule, providers, exports: providers };
  }
}
